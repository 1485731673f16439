'use strict';
// The Node side of idlespec's bridge (protocol 1; protocol.schema.json describes every
// message). One long-lived process per JS candidate per run. The host stays the Python
// reference event loop: each window of a row gets a *realm* here, a fresh `vm` context
// whose globals (setTimeout, requestAnimationFrame, performance.now, Date, postMessage, ...)
// call the Python host, and the candidate's published files are loaded into it the way a
// page or a bundler would load them (classic script, CommonJS, ES module).
//
// Messages are JSON Lines on stdin/stdout; calls nest both ways (a host timer fires a JS
// callback, which calls the host, which runs another JS callback), so both sides serve
// incoming calls while they wait for their own answer. Every message from Python carries
// the virtual time, so performance.now() and Date.now() need no round trip.
//
// Never touch process.stdin/process.stdout: Node would make the pipes non-blocking.

const fs = require('fs');
const path = require('path');
const vm = require('vm');
const { createRequire, isBuiltin } = require('module');
// The binding checks: one module, shared with the page runner.
const bindingChecks = require('../browsers/page/binding_checks.js');

const PROTOCOL = 1;
// What virtual time 0 reads as on Date (the Python side's global-clock freeze uses it too).
const EPOCH_MS = Date.UTC(2000, 0, 1);

// ---------------------------------------------------------------------------------------
// Lines in, lines out

let inBuffer = Buffer.alloc(0);
const chunk = Buffer.alloc(1 << 16);
const pause = new Int32Array(new SharedArrayBuffer(4));

function readLine() {
  for (;;) {
    const newline = inBuffer.indexOf(10);
    if (newline >= 0) {
      const line = inBuffer.subarray(0, newline).toString('utf8');
      inBuffer = inBuffer.subarray(newline + 1);
      return line;
    }
    let n;
    try {
      n = fs.readSync(0, chunk, 0, chunk.length, null);
    } catch (error) {
      if (error.code === 'EAGAIN') {
        Atomics.wait(pause, 0, 0, 1);
        continue;
      }
      if (error.code === 'EOF') n = 0;
      else throw error;
    }
    if (n === 0) process.exit(0); // the Python side closed the pipe: the run is over
    inBuffer = Buffer.concat([inBuffer, chunk.subarray(0, n)]);
  }
}

function write(message) {
  const data = Buffer.from(JSON.stringify(message) + '\n', 'utf8');
  let offset = 0;
  while (offset < data.length) {
    try {
      offset += fs.writeSync(1, data, offset, data.length - offset);
    } catch (error) {
      if (error.code !== 'EAGAIN') throw error;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

function logLine(...parts) {
  fs.writeSync(2, parts.map((p) => (typeof p === 'string' ? p : safeString(p))).join(' ') + '\n');
}

function safeString(value) {
  try {
    return String(value);
  } catch (error) {
    return Object.prototype.toString.call(value);
  }
}

// The packages' console goes to stderr (stdout is the protocol).
for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace']) console[method] = logLine;

// ---------------------------------------------------------------------------------------
// Virtual time

let now = 0;

function noteTime(message) {
  if (typeof message.now === 'number') now = message.now;
}

// ---------------------------------------------------------------------------------------
// Calls both ways

let ownCalls = 0;

class ProtocolError extends Error {}

// An exception the Python side answered with: `{name, message}`.
class PythonError {
  constructor(info) {
    this.name = typeof info.name === 'string' ? info.name : 'Error';
    this.message = typeof info.message === 'string' ? info.message : '';
  }
}

function errorInfo(error) {
  if (error !== null && (typeof error === 'object' || typeof error === 'function')) {
    let name = 'Error';
    let message = '';
    try {
      if (typeof error.name === 'string') name = error.name;
      message = safeString(error.message);
    } catch (inner) {
      message = 'an exception whose name or message cannot be read';
    }
    return { name, message };
  }
  return { name: 'Error', message: `a non-Error value was thrown: ${safeString(error)}` };
}

// Wait for the answer to our call `id`, serving Python's calls meanwhile.
function serveUntil(id) {
  for (;;) {
    const message = parse(readLine());
    noteTime(message);
    if (message.t === 'call') {
      serve(message);
      continue;
    }
    if (message.id !== id) throw new ProtocolError(`answer to ${message.id} while waiting for ${id}`);
    if (message.t === 'ret') return message.v;
    if (message.t === 'err') throw new PythonError(message.e || {});
    throw new ProtocolError(`unknown message type ${message.t}`);
  }
}

function parse(line) {
  try {
    return JSON.parse(line);
  } catch (error) {
    throw new ProtocolError(`not JSON: ${line.slice(0, 200)}`);
  }
}

// Call the Python side; a Python exception comes back as `{name, message}`.
function callPython(op, a) {
  ownCalls += 1;
  const id = ownCalls;
  write({ t: 'call', id, op, a });
  return serveUntil(id);
}

function serve(message) {
  let reply;
  try {
    const handler = OPS[message.op];
    if (handler === undefined) throw new ProtocolError(`unknown op ${message.op}`);
    reply = { t: 'ret', id: message.id, v: handler(message.a || {}) };
  } catch (error) {
    if (error instanceof ProtocolError) throw error;
    reply = { t: 'err', id: message.id, e: errorInfo(error) };
  }
  write(reply);
}

// ---------------------------------------------------------------------------------------
// Realms

const realms = new Map();

class Realm {
  constructor(id, window) {
    this.id = id;
    this.fns = new Map(); // id -> JS function the Python side holds
    this.refs = new Map(); // id -> JS object the Python side holds
    this.ids = new WeakMap(); // function or object -> its id
    this.pyFunctions = new Map(); // Python callable id -> its JS stand-in
    this.nextId = 0;
    this.exports = undefined;
    this.spec = undefined;
    this.context = vm.createContext({}, { microtaskMode: 'afterEvaluate', name: `realm ${id}` });
    this.global = vm.runInContext('globalThis', this.context);
    this.checkpoint = new vm.Script('undefined');
    this.make = vm.runInContext(
      `({
        object: () => ({}),
        array: () => [],
        error: (name, message) => {
          const Ctor = typeof globalThis[name] === 'function' && /Error$/.test(name) ? globalThis[name] : Error;
          const error = new Ctor(message);
          if (error.name !== name) Object.defineProperty(error, 'name', { value: name, configurable: true, writable: true });
          return error;
        },
        symbol: () => Symbol('idlespec'),
      })`,
      this.context,
    );
    if (window) installWindow(this);
  }

  // Promise jobs of the realm run after every entry into it (a microtask checkpoint).
  drain() {
    this.checkpoint.runInContext(this.context);
  }

  hold(value, table) {
    let id = this.ids.get(value);
    if (id === undefined) {
      this.nextId += 1;
      id = this.nextId;
      this.ids.set(value, id);
      table.set(id, value);
    }
    return id;
  }

  // A JS value as a wire value.
  encode(value) {
    switch (typeof value) {
      case 'undefined':
        return { $: 'undefined' };
      case 'boolean':
      case 'string':
        return value;
      case 'number':
        if (Number.isNaN(value)) return { $: 'num', v: 'NaN' };
        if (value === Infinity) return { $: 'num', v: 'Infinity' };
        if (value === -Infinity) return { $: 'num', v: '-Infinity' };
        if (Object.is(value, -0)) return { $: 'num', v: '-0' };
        return value;
      case 'symbol':
        return { $: 'symbol' };
      case 'bigint':
        return { $: 'bigint' };
      case 'function':
        if (PY_ID.has(value)) return { $: 'pyfn', id: PY_ID.get(value) };
        return { $: 'jsfn', id: this.hold(value, this.fns) };
      default:
        if (value === null) return null;
        return { $: 'ref', id: this.hold(value, this.refs) };
    }
  }

  // A wire value as a JS value of this realm.
  decode(value) {
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) {
      const array = this.make.array();
      for (const item of value) array.push(this.decode(item));
      return array;
    }
    switch (value.$) {
      case 'undefined':
        return undefined;
      case 'num':
        return { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 }[value.v];
      case 'symbol':
        return this.make.symbol();
      case 'bigint':
        return BigInt(1);
      case 'object': {
        const object = this.make.object();
        for (const [key, item] of Object.entries(value.v)) object[key] = this.decode(item);
        return object;
      }
      case 'throwing-getter': {
        const realm = this;
        const object = this.make.object();
        Object.defineProperty(object, 'timeout', {
          enumerable: true,
          get() {
            throw realm.make.error('Error', "getter for 'timeout' threw");
          },
        });
        return object;
      }
      case 'throwing-valueof': {
        const realm = this;
        const object = this.make.object();
        object.valueOf = () => {
          throw realm.make.error('Error', 'valueOf threw');
        };
        return object;
      }
      case 'pyfn':
        return this.pyFunction(value.id);
      case 'jsfn':
        return this.fns.get(value.id);
      case 'ref':
        return this.refs.get(value.id);
      default:
        throw new ProtocolError(`unknown wire value ${JSON.stringify(value)}`);
    }
  }

  // A Python callable as a JS function of this realm: calling it calls Python.
  pyFunction(id) {
    let fn = this.pyFunctions.get(id);
    if (fn === undefined) {
      const realm = this;
      fn = function () {
        const args = Array.prototype.map.call(arguments, (a) => realm.encode(a));
        return realm.decode(realm.call('py.call', { realm: realm.id, fn: id, args }));
      };
      PY_ID.set(fn, id);
      this.pyFunctions.set(id, fn);
    }
    return fn;
  }

  // Call Python; rethrow its exception as an error of this realm.
  call(op, a) {
    try {
      return callPython(op, a);
    } catch (error) {
      if (error instanceof PythonError) throw this.make.error(error.name, error.message);
      throw error;
    }
  }

  host(fn, args) {
    return this.decode(this.call('host', { realm: this.id, fn, args }));
  }

  // Enter the realm from the host: call, then a microtask checkpoint.
  enter(fn, thisArg, args) {
    try {
      return fn.apply(thisArg, args);
    } finally {
      this.drain();
    }
  }
}

const PY_ID = new WeakMap(); // JS stand-in of a Python callable -> its id

// The page's globals, bound to the Python host of this window.
function installWindow(realm) {
  const g = realm.global;
  const host = (fn, ...args) => realm.host(fn, args.map((a) => realm.encode(a)));
  const listeners = new Map();
  const eventTarget = (target, table) => {
    target.addEventListener = function (type, listener) {
      if (typeof listener !== 'function' && !(listener && typeof listener.handleEvent === 'function')) return;
      if (!table.has(type)) table.set(type, []);
      if (!table.get(type).includes(listener)) table.get(type).push(listener);
    };
    target.removeEventListener = function (type, listener) {
      const list = table.get(type);
      if (list && list.includes(listener)) list.splice(list.indexOf(listener), 1);
    };
    target.dispatchEvent = function (event) {
      for (const listener of [...(table.get(event.type) || [])]) {
        if (typeof listener === 'function') listener.call(target, event);
        else listener.handleEvent(event);
      }
      const handler = target['on' + event.type];
      if (typeof handler === 'function') handler.call(target, event);
      return true;
    };
  };
  g.window = g;
  g.self = g;
  g.global = g; // what browserify and webpack give CommonJS packages
  // WebIDL's ToNumber runs in the page's realm (an object's valueOf is JS), so numeric
  // arguments cross as numbers; the host applies the long / unsigned long arithmetic.
  const toNumber = (value) => +value; // throws TypeError for a Symbol or BigInt, as ToNumber does
  g.setTimeout = function setTimeout(handler, delay) {
    return host('setTimeout', handler, arguments.length < 2 ? 0 : toNumber(delay));
  };
  g.clearTimeout = function clearTimeout(handle) {
    host('clearTimeout', arguments.length < 1 ? 0 : toNumber(handle));
  };
  g.requestAnimationFrame = function requestAnimationFrame(callback) {
    return host('requestAnimationFrame', callback);
  };
  g.cancelAnimationFrame = function cancelAnimationFrame(handle) {
    if (arguments.length < 1) throw realm.make.error('TypeError', 'cancelAnimationFrame: 1 argument required');
    host('cancelAnimationFrame', toNumber(handle));
  };
  g.queueMicrotask = function queueMicrotask(callback) {
    host('queueMicrotask', callback);
  };
  g.reportError = function reportError(error) {
    const info = errorInfo(error);
    realm.host('reportError', [info.name, info.message]);
  };
  g.performance = realm.make.object();
  g.performance.now = function now_() {
    return now;
  };
  g.performance.timeOrigin = EPOCH_MS;
  g.Date = vm.runInContext(
    `(function (now) {
      const RealDate = Date;
      function FakeDate(...args) {
        if (!new.target) return new RealDate(now()).toString();
        return args.length === 0 ? new RealDate(now()) : new RealDate(...args);
      }
      FakeDate.prototype = RealDate.prototype;
      FakeDate.now = () => Math.floor(now());
      FakeDate.parse = RealDate.parse;
      FakeDate.UTC = RealDate.UTC;
      return FakeDate;
    })`,
    realm.context,
  )(() => EPOCH_MS + now);
  eventTarget(g, listeners);
  // window.postMessage: a task on the posted-message task source dispatches a MessageEvent.
  g.postMessage = function postMessage(data) {
    const deliver = () => g.dispatchEvent({ type: 'message', data, source: g, origin: 'null' });
    host('queueTask', deliver, 'posted-message');
  };
  g.MessageChannel = function MessageChannel() {
    const port = () => {
      const p = realm.make.object();
      eventTarget(p, new Map());
      p.start = () => {};
      p.close = () => {};
      return p;
    };
    this.port1 = port();
    this.port2 = port();
    const link = (from, to) => {
      from.postMessage = (data) =>
        host('queueTask', () => to.dispatchEvent({ type: 'message', data, target: to }), 'posted-message');
    };
    link(this.port1, this.port2);
    link(this.port2, this.port1);
  };
  const document = realm.make.object();
  eventTarget(document, new Map());
  document.hidden = false;
  document.visibilityState = 'visible';
  document.readyState = 'complete';
  g.document = document;
  g.navigator = realm.make.object();
  g.navigator.userAgent = 'idlespec';
  g.console = console;
}

// ---------------------------------------------------------------------------------------
// Loading published files

function readSource(file) {
  return fs.readFileSync(file, 'utf8');
}

function loadScript(realm, file) {
  vm.runInContext(readSource(file), realm.context, { filename: file });
}

// CommonJS as a bundler runs it: one module wrapper per file, in the realm; packages are
// resolved as Node resolves them; Node's built-in modules are the real ones.
function loadCommonJs(realm, file, cache = new Map()) {
  if (cache.has(file)) return cache.get(file).exports;
  const module = { exports: realm.make.object(), id: file, filename: file, loaded: false };
  cache.set(file, module);
  if (file.endsWith('.json')) {
    module.exports = JSON.parse(readSource(file));
    return module.exports;
  }
  const nodeRequire = createRequire(file);
  const require = (specifier) => {
    if (isBuiltin(specifier)) return nodeRequire(specifier);
    return loadCommonJs(realm, nodeRequire.resolve(specifier), cache);
  };
  require.resolve = (specifier) => nodeRequire.resolve(specifier);
  const wrapper = vm.compileFunction(
    readSource(file),
    ['exports', 'require', 'module', '__filename', '__dirname'],
    { parsingContext: realm.context, filename: file },
  );
  wrapper.call(module.exports, module.exports, require, module, file, path.dirname(file));
  module.loaded = true;
  return module.exports;
}

// ES modules with vm.SourceTextModule (node --experimental-vm-modules). Linking is
// asynchronous, so an ES-module realm is built ahead of time, while no call is nested.
async function loadModule(realm, file) {
  const modules = new Map();
  const make = (filename) => {
    if (!modules.has(filename)) {
      modules.set(
        filename,
        new vm.SourceTextModule(readSource(filename), { context: realm.context, identifier: filename }),
      );
    }
    return modules.get(filename);
  };
  const root = make(file);
  await root.link((specifier, referencing) => {
    if (!specifier.startsWith('.') && !specifier.startsWith('/')) {
      throw new Error(`cannot import ${specifier}: only relative imports are supported`);
    }
    return make(path.resolve(path.dirname(referencing.identifier), specifier));
  });
  // The realm's promise jobs run only at its checkpoints, so evaluation is not awaited:
  // a module graph without top-level await is evaluated when evaluate() returns.
  root.evaluate().catch(() => {});
  realm.drain();
  if (root.status !== 'evaluated') throw root.status === 'errored' ? root.error : new Error(`module ${file} is ${root.status}`);
  return root.namespace;
}

// Where the loaded code left a function: ['global', name], ['exports', ...path], or
// ['auto', name] (the exports' if they have it, else the window's).
function lookup(realm, where) {
  if (where[0] === 'auto') {
    const exported = realm.exports !== null && typeof realm.exports === 'object' || typeof realm.exports === 'function';
    return exported && where[1] in realm.exports ? realm.exports[where[1]] : realm.global[where[1]];
  }
  let value = where[0] === 'global' ? realm.global : realm.exports;
  for (const key of where.slice(1)) value = value === undefined || value === null ? undefined : value[key];
  return value;
}

function loadSync(realm, spec) {
  realm.spec = spec;
  for (const file of spec.files) {
    if (spec.format === 'script') loadScript(realm, file);
    else if (spec.format === 'cjs') realm.exports = loadCommonJs(realm, file);
    else throw new Error(`format ${spec.format} cannot load while a call is nested`);
  }
  realm.drain();
}

// ES-module realms built ahead of time, by spec (JSON) -> realms ready to be named.
const spares = new Map();

async function prepare(spec, count) {
  const key = JSON.stringify(spec);
  if (!spares.has(key)) spares.set(key, []);
  const list = spares.get(key);
  while (list.length < count) {
    const realm = new Realm(null, spec.window !== false);
    realm.spec = spec;
    for (const file of spec.files) realm.exports = await loadModule(realm, file);
    realm.drain();
    list.push(realm);
  }
}

function openRealm(a) {
  const spec = a.spec;
  let realm;
  if (spec.format === 'esm') {
    const list = spares.get(JSON.stringify(spec)) || [];
    if (list.length === 0) throw new Error('no ES-module realm was prepared (realm.prepare)');
    realm = list.pop();
    realm.id = a.realm;
  } else {
    realm = new Realm(a.realm, spec.window !== false);
    loadSync(realm, spec);
  }
  realms.set(a.realm, realm);
  return null;
}

function realmOf(a) {
  const realm = realms.get(a.realm);
  if (realm === undefined) throw new ProtocolError(`no realm ${a.realm}`);
  return realm;
}

// ---------------------------------------------------------------------------------------
// Self-hosted candidates and absent APIs

function loadPackage(spec) {
  const realm = new Realm(null, false);
  realm.spec = spec;
  // What the package may touch at load time (fake-timers probes setTimeout once); the clock
  // it creates never calls these.
  realm.global.global = realm.global; // what CommonJS packages see in Node
  realm.global.setTimeout = () => 0;
  realm.global.clearTimeout = () => undefined;
  realm.global.console = console;
  loadSync(realm, spec);
  return realm;
}

const adapters = new Map();

function adapter(name) {
  if (!adapters.has(name)) {
    if (!/^[a-z_]+$/.test(name)) throw new Error(`bad adapter name ${name}`);
    adapters.set(name, require(path.join(__dirname, 'adapters', `${name}.js`)));
  }
  return adapters.get(name);
}

const packages = new Map();

function selfHosted(a) {
  const key = JSON.stringify(a.spec);
  if (!packages.has(key)) packages.set(key, loadPackage(a.spec));
  const realm = packages.get(key);
  return { adapter: adapter(a.adapter), pkg: realm.exports, global: realm.global };
}

// jsdom and happy-dom are Node libraries: loaded with Node's own loader, as their users do
// (happy-dom is an ES module, so import(): only at the top level).
async function probeAbsent(a) {
  const library = await import(require('url').pathToFileURL(a.spec.files[0]).href);
  let window;
  if (a.spec.library === 'jsdom') window = new library.JSDOM('', { pretendToBeVisual: true }).window;
  else window = new library.Window();
  const types = {};
  for (const name of ['requestIdleCallback', 'cancelIdleCallback', 'IdleDeadline']) types[name] = typeof window[name];
  let error = null;
  try {
    window.requestIdleCallback(() => {});
  } catch (thrown) {
    error = errorInfo(thrown);
  }
  try {
    if (typeof window.close === 'function') window.close();
    if (window.happyDOM && typeof window.happyDOM.abort === 'function') window.happyDOM.abort();
  } catch (ignored) {
    // closing is a courtesy
  }
  return { types, error };
}

// ---------------------------------------------------------------------------------------
// Operations Python may call

const OPS = {
  hello: () => ({ protocol: PROTOCOL, node: process.version }),
  'realm.open': openRealm,
  'realm.close': (a) => {
    realms.delete(a.realm);
    return null;
  },
  'realm.call': (a) => {
    const realm = realmOf(a);
    let fn;
    if (a.name === 'requestIdleCallback') fn = lookup(realm, realm.spec.request);
    else if (a.name === 'cancelIdleCallback') fn = lookup(realm, realm.spec.cancel);
    else fn = realm.global[a.name];
    const args = a.args.map((v) => realm.decode(v));
    if (typeof fn !== 'function') {
      const where = a.name === 'requestIdleCallback' ? realm.spec.request : a.name === 'cancelIdleCallback' ? realm.spec.cancel : ['global'];
      // A page calls a missing global by its bare name: ReferenceError; a missing export or
      // a non-function is called as a value: TypeError.
      if (where[0] === 'global' && fn === undefined && !(a.name in realm.global)) {
        throw realm.make.error('ReferenceError', `${a.name} is not defined`);
      }
      throw realm.make.error('TypeError', `${a.name} is not a function (it is ${typeof fn})`);
    }
    return realm.encode(realm.enter(fn, realm.global, args));
  },
  'realm.binding': (a) => {
    const realm = realmOf(a);
    const env = {
      global: realm.global,
      request: lookup(realm, realm.spec.request),
      cancel: lookup(realm, realm.spec.cancel),
      deadline: realm.decode(a.deadline),
    };
    return realm.enter(() => bindingChecks.run(a.check, env), undefined, []);
  },
  'fn.call': (a) => {
    const realm = realmOf(a);
    const fn = realm.fns.get(a.fn);
    return realm.encode(realm.enter(fn, undefined, a.args.map((v) => realm.decode(v))));
  },
  'ref.get': (a) => {
    const realm = realmOf(a);
    const object = realm.refs.get(a.ref);
    return realm.encode(realm.enter(() => object[a.prop], undefined, []));
  },
  'ref.call': (a) => {
    const realm = realmOf(a);
    const object = realm.refs.get(a.ref);
    const args = a.args.map((v) => realm.decode(v));
    const method = object === null || object === undefined ? undefined : object[a.method];
    if (typeof method !== 'function') {
      throw realm.make.error('TypeError', `${a.method} is not a function: the object's ${a.method} is ${method === null ? 'null' : typeof method}`);
    }
    return realm.encode(realm.enter(() => method.apply(object, args), undefined, []));
  },
  'selfhosted.info': (a) => {
    const { adapter: runner, pkg } = selfHosted(a);
    const unsupported = typeof runner.unsupportedActionsFor === 'function' ? runner.unsupportedActionsFor(pkg) : runner.unsupportedActions;
    return { unsupported: [...unsupported] };
  },
  'selfhosted.run': (a) => {
    const { adapter: runner, pkg, global } = selfHosted(a);
    // The row comes as a JS literal (NaN, Infinity and -0 included): idlespec's own data.
    const row = new vm.Script(`(${a.rowSource})`).runInThisContext();
    return runner.runRow(row, pkg, { stepBudget: a.stepBudget, global });
  },
};

// Operations that may wait for promises: only at the top level, never nested.
const ASYNC_OPS = {
  'realm.prepare': async (a) => {
    await prepare(a.spec, a.count);
    return null;
  },
  'absent.probe': probeAbsent,
};

async function main() {
  for (;;) {
    const message = parse(readLine());
    noteTime(message);
    if (message.t !== 'call') throw new ProtocolError(`a ${message.t} with no call waiting`);
    if (ASYNC_OPS[message.op] === undefined) {
      serve(message);
      continue;
    }
    let reply;
    try {
      reply = { t: 'ret', id: message.id, v: await ASYNC_OPS[message.op](message.a || {}) };
    } catch (error) {
      reply = { t: 'err', id: message.id, e: errorInfo(error) };
    }
    write(reply);
  }
}

main().catch((error) => {
  logLine(`idlespec bridge: ${error && error.stack ? error.stack : error}`);
  process.exit(70);
});
