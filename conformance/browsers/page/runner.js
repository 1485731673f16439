'use strict';
/*
 * The row language (conformance/cases/README.md) run natively in a real browser page.
 *
 * window.idlespecRunRow(rowSource, options) -> Promise<trace> performs one conformance row in
 * fresh same-origin iframes of this page and resolves to a trace shaped like Trace.to_json()
 * (conformance/trace.py), JSON-ready. It mirrors conformance/scenario.py step by step (and
 * follows conformance/node/adapters/fake_clock.js where a JS decision was needed), but runs in
 * real time (live mode) or under CDP virtual time (virtual mode, driven from outside).
 * It never rejects: a failure of the runner itself goes into trace.notes.
 *
 * options: {mode: 'live'|'virtual', endAt: ms after the start at which the row stops (later
 *   if an idle callback it posted still waits then: until it is quiet, or quietBy ms),
 *           candidate: {kind: 'native'} | {kind: 'polyfill', url, format, request, cancel}}
 *
 * window.idlespecUnsupported(mode) -> string[]: the step actions this runner cannot express
 * in that mode (rows using them are UNSUPPORTED, never approximated);
 * window.idlespecUnsupportedReasons(mode) -> {action: why}.
 * The promise idlespecRunRow returns also has `started`: a Promise<boolean>, true once the
 * scenario's first task has begun (t = 0), false if the row ended without starting.
 *
 * How a row runs:
 * - Windows. Every window the row names (`main`, and each `open_window`) is a fresh iframe
 *   without src (its initial about:blank document: same origin, same event loop), created
 *   before the scenario starts, because loading a polyfill into a window is asynchronous and
 *   a step is not. `open_window` then only marks the window as opened; a window nobody has
 *   used has nothing pending, so being there earlier is not observable by the rows. Handles
 *   count from 1 per window because each iframe is a fresh Window. All of the row's iframes
 *   are removed when it ends.
 * - Candidate. `native`: the iframe's own requestIdleCallback. `polyfill`: in every window of
 *   the row, first requestIdleCallback, cancelIdleCallback and IdleDeadline are deleted, then
 *   the package is loaded into that window: `script` as a <script src> of the iframe's
 *   document, `cjs` fetched and run in the iframe's realm in a module wrapper
 *   (exports, require, module, global) with global = the window and a require that throws
 *   (what browserify/webpack give), `esm` by a dynamic import() made in the iframe's realm.
 *   The binding is looked up at each call as `request`/`cancel` say: ['global', name] on the
 *   window (missing: ReferenceError, as a page's bare call), ['exports', ...path] in the
 *   module's exports or namespace (missing or not a function: TypeError). It is called with
 *   `this` = the window, as the Node bridge calls it.
 * - Realms. Every function handed to the page (recording callbacks, the task port's
 *   handler, the `function` JS value) is a function of the target window's realm that calls
 *   into the runner, so what it throws is reported by the browser to that window, as for a
 *   page's own callback; the scenario's `raise` throws that window's Error.
 * - Time. t = performance.now() of this page minus the scenario's start, rounded to 0.001.
 *   Live: once the windows are ready, a frame and SETTLE_MS of quiet pass, then the top-level
 *   steps run as a task of `main` (a MessageChannel message in main's realm) at t = 0.
 *   Virtual: they run at once, at the end of the task that prepared the windows (see run()).
 *   Each `later` block runs as a task of main queued at its `at`; the run stops at
 *   options.endAt (later blocks after endAt are skipped). In live mode those times come from a
 *   dedicated worker's timers (a worker has its own event loop): a timer of this page would be
 *   a pending timer of a same-loop window and would cap the rows' idle deadlines (it does in
 *   Chromium, whose scheduler bounds idle periods by the thread's next delayed task). In
 *   virtual mode they are this page's own setTimeout, since only the page's clock is virtual.
 * - Stop. At endAt: final_time = t; nothing the rows' callbacks do after that is recorded;
 *   quiescent = nothing the scenario started is pending (an idle callback posted and neither
 *   run nor cancelled, a timer, frame or task not run nor cleared, an unfinished chain); a
 *   note for each posted idle callback that never ran. A polyfill's own timers cannot be seen.
 * - Exceptions: an `error` listener on every window of the row records what the browser
 *   reports ({window, type: error.name, message: error.message}) and prevents the default
 *   (the console stays quiet). Errors reported while the package loads go into notes.
 * - Steps: as scenario.py. task = a MessageChannel message of the target window (one port per
 *   window, so tasks keep their order); its `source` is not honoured: a page has no control
 *   over which task source its tasks use. microtask = the window's queueMicrotask. timer,
 *   clear_timer, raf, cancel_raf = the target window's own setTimeout, clearTimeout,
 *   requestAnimationFrame, cancelAnimationFrame, looked up at call time (a polyfill that
 *   replaced them sees the calls). busy = a busy-wait on performance.now(). chain = tasks on
 *   the window's port, each busy `every` ms, until t >= until; records `c` when the step runs
 *   and `c-end` at the end of the last link.
 *
 * Unsupported (see UNSUPPORTED and VIRTUAL_UNSUPPORTED below): deactivate and activate in
 * every mode; busy and chain in virtual mode.
 */
(function () {
  const MAIN_WINDOW = 'main';
  const STEP_BUDGET = 200000;
  const LIVE_FALLBACK_MS = 3000; // a stop of this page's own, should the worker's never come
  // While an idle callback waits after endAt, how often the row looks again (ms).
  const QUIET_POLL_MS = 25;
  const SETTLE_MS = 50; // live mode: quiet time before the scenario starts

  const ACTIONS = [
    'post', 'repost', 'cancel', 'cancel_handle', 'timer', 'clear_timer', 'raf', 'cancel_raf',
    'task', 'microtask', 'chain', 'busy', 'open_window', 'deactivate', 'activate', 'raise',
    'sample', 'return', 'binding',
  ];

  const DEACTIVATE_REASON =
    "a page cannot make a same-origin iframe's document stop being fully active and later " +
    'make that same document fully active again: removing or navigating the iframe discards ' +
    'the document for good (no back/forward cache for iframes), so neither deactivate nor ' +
    'activate can be expressed';
  const UNSUPPORTED = { deactivate: DEACTIVATE_REASON, activate: DEACTIVATE_REASON };
  const VIRTUAL_UNSUPPORTED = {
    busy: 'under CDP virtual time the clock does not move inside a task, so busy-waiting ' +
      'never ends',
    chain: 'back-to-back tasks that are each busy: busy cannot be expressed under virtual time',
    raf: 'headless Chromium under CDP virtual time produces no frames: no animation frame ' +
      'callback ran in a whole run',
    cancel_raf: 'no frames under CDP virtual time (see raf)',
  };

  function unsupportedReasons(mode) {
    const out = Object.assign({}, UNSUPPORTED);
    if (mode === 'virtual') Object.assign(out, VIRTUAL_UNSUPPORTED);
    return out;
  }

  window.idlespecUnsupported = function idlespecUnsupported(mode) {
    return Object.keys(unsupportedReasons(mode)).sort();
  };
  window.idlespecUnsupportedReasons = function idlespecUnsupportedReasons(mode) {
    return unsupportedReasons(mode);
  };

  // This page's own clock and timers, taken before anything else runs.
  const perf = window.performance;
  const topNow = () => perf.now();
  const topSetTimeout = window.setTimeout.bind(window);
  const topClearTimeout = window.clearTimeout.bind(window);
  const topRaf = window.requestAnimationFrame.bind(window);
  const TopMessageChannel = window.MessageChannel;

  const hasOwn = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

  function actionOf(step) {
    if (step === null || typeof step !== 'object') return null;
    const found = ACTIONS.filter((a) => hasOwn(step, a));
    return found.length === 1 ? found[0] : null;
  }

  function walkSteps(row, visit) {
    const walk = (steps) => {
      for (const step of steps || []) {
        visit(step);
        if (step && step.body) walk(step.body);
      }
    };
    walk(row.steps);
    for (const block of row.later || []) walk(block.steps);
  }

  // Values ----------------------------------------------------------------------------------

  const MISSING = Symbol('missing'); // { js = "missing" }: the argument is not passed at all

  function safeString(value) {
    try {
      return typeof value === 'symbol' ? value.toString() : String(value);
    } catch (_) {
      return Object.prototype.toString.call(value);
    }
  }

  function safeJson(value) {
    try {
      return JSON.stringify(value);
    } catch (_) {
      return safeString(value);
    }
  }

  function repr(value) {
    if (typeof value === 'string') return JSON.stringify(value);
    if (value === undefined) return 'undefined';
    if (typeof value === 'function') return 'a function';
    if (typeof value === 'object' && value !== null) return safeJson(value);
    return safeString(value);
  }

  /** What scenario.py's _jsonable does; non-finite numbers as strings (JSON has none). */
  function jsonable(value) {
    if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
    if (typeof value === 'number') return Number.isFinite(value) ? value : safeString(value);
    return safeString(value);
  }

  function errorName(error) {
    if (error !== null && (typeof error === 'object' || typeof error === 'function')) {
      try {
        if (typeof error.name === 'string') return error.name;
      } catch (_) { /* fall through */ }
    }
    return typeof error;
  }

  function errorMessage(error) {
    if (error !== null && typeof error === 'object') {
      try {
        if (typeof error.message === 'string') return error.message;
      } catch (_) { /* fall through */ }
    }
    return safeString(error);
  }

  const round3 = (x) => Math.round(x * 1000) / 1000;

  /** WebIDL unsigned long conversion, for matching a cancelled handle (never throws). */
  function toUnsignedLong(value) {
    if (typeof value === 'symbol' || typeof value === 'bigint') return undefined;
    let x;
    try {
      x = Number(value);
    } catch (_) {
      return undefined;
    }
    if (!Number.isFinite(x)) return 0;
    x = Math.trunc(x) % 4294967296;
    return x < 0 ? x + 4294967296 : x;
  }

  function sameHandle(handle, value) {
    if (handle === value) return true;
    return typeof handle === 'number' && toUnsignedLong(value) === handle;
  }

  class ReturnSignal {
    constructor(value) {
      this.value = value;
    }
  }

  function newTrace() {
    return {
      calls: [],
      samples: [],
      handles: {},
      sync_errors: {},
      reported: [],
      binding: {},
      final_time: 0,
      quiescent: true,
      notes: [],
    };
  }

  // Clocks for the runner's own times (later blocks, the stop) ----------------------------

  const WORKER_SOURCE = `
    'use strict';
    const timers = new Map();
    const now = () => performance.timeOrigin + performance.now();
    onmessage = (event) => {
      const m = event.data;
      if (m.cancel !== undefined) {
        clearTimeout(timers.get(m.cancel));
        timers.delete(m.cancel);
        return;
      }
      const fire = () => {
        const left = m.at - now();
        if (left > 0.25) {
          timers.set(m.id, setTimeout(fire, Math.ceil(left)));
          return;
        }
        timers.delete(m.id);
        postMessage(m.id);
      };
      fire();
    };
  `;

  let workerClock = null; // created once, kept across rows

  /** schedule(target, fn): run fn in a task of this page once topNow() >= target. */
  function makeWorkerClock() {
    const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
    const worker = new Worker(url);
    const callbacks = new Map();
    let seq = 0;
    worker.onmessage = (event) => {
      const callback = callbacks.get(event.data);
      if (callback) callback();
    };
    return {
      kind: 'worker',
      schedule(target, fn) {
        const id = ++seq;
        const arm = () => {
          if (topNow() >= target) {
            callbacks.delete(id);
            fn();
            return;
          }
          callbacks.set(id, arm);
          worker.postMessage({ id, at: perf.timeOrigin + target });
        };
        arm();
        return () => {
          if (callbacks.delete(id)) worker.postMessage({ cancel: id });
        };
      },
    };
  }

  const pageClock = {
    kind: 'page',
    schedule(target, fn) {
      let handle = null;
      const arm = () => {
        const left = target - topNow();
        if (left <= 0) {
          handle = null;
          fn();
          return;
        }
        handle = topSetTimeout(arm, Math.ceil(left));
      };
      handle = topSetTimeout(arm, Math.max(0, Math.ceil(target - topNow())));
      return () => {
        if (handle !== null) topClearTimeout(handle);
        handle = null;
      };
    },
  };

  function clockFor(mode, notes) {
    if (mode === 'virtual') return pageClock;
    if (workerClock === null) {
      try {
        workerClock = makeWorkerClock();
      } catch (error) {
        workerClock = false;
        notes.push(`no worker clock (${errorName(error)}: ${errorMessage(error)}); this ` +
          "page's own timers time the row, and cap its idle deadlines");
      }
    }
    return workerClock || pageClock;
  }

  /** One task of this page: a MessageChannel message (no timer involved). */
  function topTask() {
    return new Promise((resolve) => {
      const channel = new TopMessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(null);
    });
  }

  // One row -----------------------------------------------------------------------------

  class Run {
    constructor(options) {
      this.options = options || {};
      this.mode = this.options.mode === 'virtual' ? 'virtual' : 'live';
      this.candidate = this.options.candidate || { kind: 'native' };
      this.trace = newTrace();
      this.windows = new Map(); // name -> window context
      this.count = new Map();
      this.posts = new Map(); // idle label -> {step, ctx}
      this.timers = new Map(); // timer label -> handle
      this.frames = new Map(); // raf label -> handle
      this.deadlines = new Map(); // idle label -> the deadline of its latest run
      this.pending = new Set(); // what the scenario started and is not over yet
      this.invocations = 0;
      this.noted = new Set();
      this.t0 = null;
      this.started = false; // the scenario's first task has begun
      this.stopped = false; // endAt reached: nothing more is recorded
      this.finished = false;
      this.cancels = [];
      this.frames_ = [];
      this.topListener = null;
      this.resolveFinish = null;
      this.onStart = null;
    }

    noteOnce(key, text) {
      if (!this.noted.has(key)) {
        this.noted.add(key);
        this.trace.notes.push(text);
      }
    }

    now() {
      return this.t0 === null ? 0 : round3(topNow() - this.t0);
    }

    // Windows ---------------------------------------------------------------------------

    async openFrame(name) {
      const iframe = document.createElement('iframe');
      iframe.title = `idlespec window ${name}`;
      const loaded = new Promise((resolve) => iframe.addEventListener('load', resolve));
      document.body.appendChild(iframe);
      this.frames_.push(iframe);
      // The initial about:blank document is there synchronously; a browser that still
      // replaces it by a loaded about:blank does so before its load event: wait for that.
      if (iframe.contentDocument === null || iframe.contentDocument.readyState !== 'complete') {
        await loaded;
      }
      const win = iframe.contentWindow;
      const make = (body) => new win.Function('f', body);
      const ctx = {
        name,
        iframe,
        win,
        opened: name === MAIN_WINDOW,
        exports: undefined,
        Error: win.Error,
        TypeError: win.TypeError,
        ReferenceError: win.ReferenceError,
        // f as a function of this window's realm (what it throws is reported to this window).
        wrap: make('"use strict"; return function () { return f.apply(this, arguments); };'),
        queue: [],
        channel: new win.MessageChannel(),
        listener: null,
      };
      ctx.channel.port1.onmessage = ctx.wrap(() => {
        const job = ctx.queue.shift();
        if (job !== undefined) job();
      });
      ctx.listener = (event) => this.onError(ctx.name, event);
      win.addEventListener('error', ctx.listener);
      this.windows.set(name, ctx);
      if (this.candidate.kind === 'polyfill') await this.installPolyfill(ctx);
      return ctx;
    }

    onError(name, event) {
      if (typeof event.message !== 'string' && !('error' in event)) return; // not an ErrorEvent
      event.preventDefault();
      const error = event.error;
      let type = 'Error';
      let message = typeof event.message === 'string' ? event.message : '';
      if (error !== null && (typeof error === 'object' || typeof error === 'function')) {
        type = errorName(error);
        message = errorMessage(error);
      } else if (error !== undefined && error !== null) {
        message = safeString(error);
      }
      if (name === null) {
        if (!this.stopped) {
          this.trace.notes.push(`the runner's page reported ${type}: ${message} (a runner bug)`);
        }
      } else if (!this.started) {
        this.trace.notes.push(`while the package loaded, ${name} reported ${type}: ${message}`);
      } else if (!this.stopped) {
        this.trace.reported.push({ window: name, type, message });
      }
    }

    async installPolyfill(ctx) {
      const win = ctx.win;
      const candidate = this.candidate;
      for (const name of ['requestIdleCallback', 'cancelIdleCallback', 'IdleDeadline']) {
        try {
          delete win[name];
        } catch (error) {
          this.trace.notes.push(`deleting ${name} on ${ctx.name} threw ${errorName(error)}`);
        }
        if (name in win) this.trace.notes.push(`${name} is still there on ${ctx.name} after delete`);
      }
      const url = new URL(String(candidate.url), location.href).href;
      const failed = (what, error) => this.trace.notes.push(
        `loading ${url} (${candidate.format}) into ${ctx.name}: ${what}` +
        (error === undefined ? '' : ` ${errorName(error)}: ${errorMessage(error)}`));
      if (candidate.format === 'script') {
        await new Promise((resolve) => {
          const script = win.document.createElement('script');
          script.src = url;
          script.onload = () => resolve();
          script.onerror = () => {
            failed('the script did not load');
            resolve();
          };
          (win.document.head || win.document.documentElement).appendChild(script);
        });
      } else if (candidate.format === 'cjs') {
        let source;
        try {
          const response = await fetch(url, { cache: 'no-store' });
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          source = await response.text();
        } catch (error) {
          failed('fetching it failed:', error);
          return;
        }
        try {
          const module = new win.Function('return { exports: {} };')();
          const require = ctx.wrap((specifier) => {
            throw new ctx.Error(`Cannot find module '${safeString(specifier)}' (a page has no require)`);
          });
          const factory = new win.Function(
            'exports', 'require', 'module', 'global', `${source}\n//# sourceURL=${url}`);
          factory.call(module.exports, module.exports, require, module, win);
          ctx.exports = module.exports;
        } catch (error) {
          failed('running it threw', error);
        }
      } else if (candidate.format === 'esm') {
        try {
          ctx.exports = await new win.Function('u', 'return import(u);')(url);
        } catch (error) {
          failed('importing it failed:', error);
        }
      } else {
        failed(`unknown format ${repr(candidate.format)}`);
      }
    }

    /** Where ctx's requestIdleCallback ('request') or cancelIdleCallback ('cancel') is. */
    bindingPath(ctx, which) {
      const name = which === 'request' ? 'requestIdleCallback' : 'cancelIdleCallback';
      const where = this.candidate.kind === 'polyfill' && Array.isArray(this.candidate[which])
        ? this.candidate[which] : ['global', name];
      const global = where[0] === 'global' || (where[0] === 'auto' && !(ctx.exports !== null &&
          (typeof ctx.exports === 'object' || typeof ctx.exports === 'function') &&
          where[1] in ctx.exports));
      return { where, global, path: where.slice(1) };
    }

    /** The function itself (or whatever is there), as a binding check reads it. */
    lookupBinding(ctx, which) {
      const { global, path } = this.bindingPath(ctx, which);
      let fn = global ? ctx.win : ctx.exports;
      for (const key of path) fn = fn === undefined || fn === null ? undefined : fn[key];
      return fn;
    }

    /** Call requestIdleCallback ('request') or cancelIdleCallback ('cancel') of ctx. */
    callBinding(ctx, which, args) {
      const { where, global, path } = this.bindingPath(ctx, which);
      // A page calls a global by its bare name: ReferenceError when there is none.
      if (global && path.length && !(path[0] in ctx.win)) {
        throw new ctx.ReferenceError(`${path[0]} is not defined`);
      }
      const fn = this.lookupBinding(ctx, which);
      if (typeof fn !== 'function') {
        const shown = [where[0] === 'global' ? 'window' : 'exports'].concat(path).join('.');
        throw new ctx.TypeError(
          `${shown} is not a function (it is ${fn === null ? 'null' : typeof fn})`);
      }
      return fn.apply(ctx.win, args);
    }

    decodeJs(value, ctx, onCall) {
      if (Array.isArray(value)) return value.map((item) => this.decodeJs(item, ctx));
      if (value !== null && typeof value === 'object') {
        if (hasOwn(value, 'js')) {
          switch (value.js) {
            case 'undefined': return undefined;
            case 'null': return null;
            case 'symbol': return Symbol('idlespec');
            case 'bigint': return BigInt(1); // any BigInt: ToNumber throws TypeError
            case 'function': return ctx.wrap(() => {
              if (onCall) onCall();
              return undefined;
            });
            case 'throwing-getter': {
              const E = ctx.Error;
              return { get timeout() { throw new E("getter for 'timeout' threw"); } };
            }
            case 'throwing-valueof': {
              const E = ctx.Error;
              return { valueOf() { throw new E('valueOf threw'); } };
            }
            case 'missing': return MISSING;
            default: throw new Error(`unknown JS value ${safeJson(value)}`);
          }
        }
        const out = {};
        for (const key of Object.keys(value)) out[key] = this.decodeJs(value[key], ctx);
        return out;
      }
      return value;
    }

    // Tracking what is pending ---------------------------------------------------------

    track(kind, label, ctx) {
      const entry = { kind, label, ctx, handle: undefined, done: false, cancelled: false };
      this.pending.add(entry);
      return entry;
    }

    markCancelled(kind, ctx, handle) {
      for (const entry of this.pending) {
        if (entry.kind === kind && entry.ctx === ctx && !entry.done &&
            sameHandle(entry.handle, handle)) {
          entry.cancelled = true;
        }
      }
    }

    // Steps -----------------------------------------------------------------------------

    runSteps(steps, ctx, deadline, label) {
      for (const step of steps || []) {
        const action = actionOf(step);
        const target = hasOwn(step, 'window') ? this.windows.get(step.window) : ctx;
        if (target === undefined) throw new Error(`no window ${repr(step.window)}`);
        this[`do_${action}`](step, target, deadline, label);
      }
    }

    /** A call into the candidate or the page: a synchronous exception is recorded. */
    guard(key, call) {
      let result;
      this.lastOk = false;
      try {
        result = call();
      } catch (error) {
        if (error instanceof ReturnSignal) throw error;
        this.trace.sync_errors[key] = errorName(error);
        return null;
      }
      this.lastOk = true;
      if (!hasOwn(this.trace.sync_errors, key)) this.trace.sync_errors[key] = 'none';
      return result;
    }

    do_post(step, ctx) {
      const label = step.post;
      this.posts.set(label, { step, ctx });
      const entry = { kind: 'idle', label, ctx, handle: undefined, done: false, cancelled: false };
      let callback;
      let tracked = true;
      if (hasOwn(step, 'callback')) {
        callback = this.decodeJs(step.callback, ctx, () => { entry.done = true; });
        tracked = typeof callback === 'function';
      } else {
        callback = this.idleCallback(label, step.body || [], ctx, entry);
      }
      const options = hasOwn(step, 'options') ? this.decodeJs(step.options, ctx) : MISSING;
      // Arguments end at the first missing one: requestIdleCallback() takes none at all.
      const args = callback === MISSING ? [] : options === MISSING ? [callback] : [callback, options];
      if (tracked) this.pending.add(entry);
      const handle = this.guard(label, () => this.callBinding(ctx, 'request', args));
      if (this.lastOk) entry.handle = handle;
      else this.pending.delete(entry);
      if (this.trace.sync_errors[label] === 'none') {
        (this.trace.handles[label] = this.trace.handles[label] || []).push(jsonable(handle));
      }
    }

    do_repost(step) {
      const label = step.repost;
      if ((this.count.get(label) || 0) < step.times && this.posts.has(label)) {
        const { step: original, ctx } = this.posts.get(label);
        this.do_post(original, ctx);
      }
    }

    do_cancel(step, ctx) {
      const handles = this.trace.handles[step.cancel];
      const key = hasOwn(step, 'id') ? step.id : `cancel-${step.cancel}`;
      if (handles && handles.length) {
        const handle = handles[handles.length - 1];
        this.guard(key, () => this.callBinding(ctx, 'cancel', [handle]));
        if (this.lastOk) this.markCancelled('idle', ctx, handle);
      }
    }

    do_cancel_handle(step, ctx) {
      const value = this.decodeJs(step.cancel_handle, ctx);
      const args = value === MISSING ? [] : [value];
      this.guard(hasOwn(step, 'id') ? step.id : 'cancel', () => this.callBinding(ctx, 'cancel', args));
      if (this.lastOk && value !== MISSING) this.markCancelled('idle', ctx, value);
    }

    do_timer(step, ctx) {
      const label = step.timer;
      const entry = this.track('timer', label, ctx);
      const callback = this.plainCallback('timer', label, step.body || [], ctx, entry);
      const delay = this.decodeJs(hasOwn(step, 'delay') ? step.delay : 0, ctx);
      const win = ctx.win;
      const handle = this.guard(label, () => win.setTimeout(callback, delay));
      if (this.lastOk) entry.handle = handle;
      else this.pending.delete(entry);
      this.timers.set(label, handle);
    }

    do_clear_timer(step, ctx) {
      const handle = this.timers.has(step.clear_timer) ? this.timers.get(step.clear_timer) : null;
      ctx.win.clearTimeout(handle);
      this.markCancelled('timer', ctx, handle);
    }

    do_raf(step, ctx) {
      const label = step.raf;
      const entry = this.track('raf', label, ctx);
      const callback = this.plainCallback('raf', label, step.body || [], ctx, entry);
      try {
        entry.handle = ctx.win.requestAnimationFrame(callback);
      } catch (error) {
        this.pending.delete(entry);
        throw error;
      }
      this.frames.set(label, entry.handle);
    }

    do_cancel_raf(step, ctx) {
      const handle = this.frames.has(step.cancel_raf) ? this.frames.get(step.cancel_raf) : null;
      ctx.win.cancelAnimationFrame(handle);
      this.markCancelled('raf', ctx, handle);
    }

    // `source` is not honoured: a page has no control over the task source of its tasks.
    do_task(step, ctx) {
      const label = step.task;
      const entry = this.track('task', label, ctx);
      this.queueTask(ctx, this.plainCallback('task', label, step.body || [], ctx, entry));
    }

    do_microtask(step, ctx) {
      const callback = this.plainCallback('microtask', step.microtask, step.body || [], ctx, null);
      ctx.win.queueMicrotask(callback);
    }

    do_chain(step, ctx) {
      const label = step.chain;
      const until = Number(step.until);
      const every = Number(step.every);
      this.record('chain', label, ctx);
      const entry = this.track('chain', label, ctx);
      const link = () => {
        entry.links = (entry.links || 0) + 1;
        if (this.stopped) return;
        if (this.overBudget()) return;
        busyWait(every);
        if (this.now() < until) {
          this.queueTask(ctx, link);
        } else {
          entry.done = true;
          this.record('chain-end', `${label}-end`, ctx);
        }
      };
      this.queueTask(ctx, link);
    }

    do_busy(step) {
      busyWait(Number(step.busy));
    }

    do_open_window(step) {
      const ctx = this.windows.get(step.open_window);
      if (ctx === undefined) throw new Error(`no window ${repr(step.open_window)} was prepared`);
      ctx.opened = true;
    }

    do_deactivate() {
      throw new Error(`deactivate: ${DEACTIVATE_REASON}`);
    }

    do_activate() {
      throw new Error(`activate: ${DEACTIVATE_REASON}`);
    }

    do_raise(step, ctx) {
      throw new ctx.Error(step.raise);
    }

    do_return(step, ctx) {
      throw new ReturnSignal(this.decodeJs(step.return, ctx));
    }

    do_sample(step, ctx, deadline, label) {
      if (hasOwn(step, 'of')) { // a retained IdleDeadline, read later
        label = step.of;
        deadline = this.deadlines.has(label) ? this.deadlines.get(label) : null;
      }
      if (label === undefined) {
        this.trace.notes.push(`sample ${repr(step.sample)} outside an idle callback: skipped`);
        return;
      }
      const [remaining, timedOut] = this.probe(deadline);
      this.trace.samples.push({
        label,
        name: step.sample,
        n: this.count.get(label) || 0,
        t: this.now(),
        remaining,
        did_timeout: timedOut,
      });
    }

    do_binding(step, ctx, deadline) {
      // binding_checks.js, loaded by index.html before this file (shared with the Node bridge).
      const env = {
        global: ctx.win,
        request: this.lookupBinding(ctx, 'request'),
        cancel: this.lookupBinding(ctx, 'cancel'),
        deadline,
      };
      this.trace.binding[step.binding] = window.idlespecBinding.run(step.binding, env);
    }

    /** A task of ctx's window: a message on its port (FIFO with the window's other tasks). */
    queueTask(ctx, job) {
      ctx.queue.push(job);
      ctx.channel.port2.postMessage(null);
    }

    // Recording callbacks --------------------------------------------------------------

    record(kind, label, ctx, extra) {
      const n = (this.count.get(label) || 0) + 1;
      this.count.set(label, n);
      this.trace.calls.push({
        kind,
        label,
        window: ctx.name,
        t: this.now(),
        n,
        did_timeout: extra ? extra.did_timeout : null,
        remaining: extra ? extra.remaining : null,
        argc: extra ? extra.argc : null,
      });
    }

    overBudget() {
      this.invocations += 1;
      if (this.invocations <= STEP_BUDGET) return false;
      this.noteOnce('budget', `step budget: more than ${STEP_BUDGET} callbacks ran; later ones did nothing`);
      this.trace.quiescent = false;
      return true;
    }

    idleCallback(label, body, ctx, entry) {
      const run = this;
      return ctx.wrap(function idle() {
        entry.done = true;
        if (run.stopped || run.overBudget()) return undefined;
        const deadline = arguments.length ? arguments[0] : undefined;
        run.deadlines.set(label, deadline);
        const [remaining, timedOut] = run.probe(deadline);
        run.record('idle', label, ctx,
          { did_timeout: timedOut, remaining, argc: arguments.length });
        try {
          run.runSteps(body, ctx, deadline, label);
        } catch (error) {
          if (error instanceof ReturnSignal) return error.value;
          throw error;
        }
        return undefined;
      });
    }

    plainCallback(kind, label, body, ctx, entry) {
      const run = this;
      return ctx.wrap(function plain() {
        if (entry) entry.done = true;
        if (run.stopped || run.overBudget()) return undefined;
        run.record(kind, label, ctx);
        try {
          run.runSteps(body, ctx);
        } catch (error) {
          if (error instanceof ReturnSignal) return error.value;
          throw error;
        }
        return undefined;
      });
    }

    /** Read timeRemaining() and didTimeout; whatever the candidate hands over, survive it. */
    probe(deadline) {
      let remaining;
      let timedOut;
      try {
        remaining = deadline.timeRemaining();
        timedOut = deadline.didTimeout;
      } catch (error) {
        this.trace.notes.push(
          `reading the deadline raised ${errorName(error)}: ${errorMessage(error)}`);
        return [null, null];
      }
      if (typeof remaining !== 'number') {
        this.trace.notes.push(`timeRemaining() returned ${repr(remaining)}, not a number`);
        remaining = null;
      } else if (Number.isNaN(remaining)) {
        this.trace.notes.push('timeRemaining() returned NaN');
        remaining = null;
      } else if (!Number.isFinite(remaining)) {
        this.trace.notes.push(`timeRemaining() returned ${remaining} (recorded as null)`);
        remaining = null;
      }
      if (typeof timedOut !== 'boolean') {
        this.trace.notes.push(`didTimeout is ${repr(timedOut)}, not a boolean`);
        timedOut = null;
      }
      return [remaining, timedOut];
    }

    // The run ---------------------------------------------------------------------------

    /** A script of main (the top-level steps, a later block): exceptions go to main. */
    runScript(steps) {
      if (this.stopped) return;
      try {
        this.runSteps(steps, this.windows.get(MAIN_WINDOW));
      } catch (error) {
        if (error instanceof ReturnSignal) {
          this.trace.notes.push('a return step ended a script');
          return;
        }
        throw error; // out of main's task handler: the browser reports it to main
      }
    }

    async run(row) {
      const refused = new Set();
      const reasons = unsupportedReasons(this.mode);
      const names = [MAIN_WINDOW];
      walkSteps(row, (step) => {
        const action = actionOf(step);
        if (action === null) refused.add(`malformed step ${safeJson(step)}`);
        else if (hasOwn(reasons, action)) refused.add(action);
        if (action === 'open_window' && !names.includes(step.open_window)) {
          names.push(step.open_window);
        }
      });
      walkSteps(row, (step) => {
        if (step && hasOwn(step, 'window') && !names.includes(step.window)) {
          refused.add(`window ${repr(step.window)} (never opened)`);
        }
      });
      if (refused.size) {
        this.trace.quiescent = false;
        this.trace.notes.push(`not run: this runner cannot express ${[...refused].sort().join(', ')} ` +
          `in ${this.mode} mode`);
        return this.trace;
      }
      let endAt = Number(this.options.endAt);
      if (!Number.isFinite(endAt) || endAt < 0) {
        this.trace.notes.push(`options.endAt is ${repr(this.options.endAt)}: stopping at 1000 ms`);
        endAt = 1000;
      }
      // options.quietBy (optional, >= endAt): the latest stop while an idle callback waits.
      let quietBy = Number(this.options.quietBy);
      if (!Number.isFinite(quietBy) || quietBy < endAt) {
        quietBy = endAt;
      }
      const clock = clockFor(this.mode, this.trace.notes);
      this.topListener = (event) => this.onError(null, event);
      window.addEventListener('error', this.topListener);
      for (const name of names) await this.openFrame(name);
      if (this.mode === 'live') {
        // Let the new iframes' frame be produced, then the loop go quiet, before the start:
        // measured over 8 starts each, the first callback of a row then runs at t < 0.5 with
        // about 50 ms left in both browsers (with no wait it ran at 0.2 to 47 ms, with 9 to
        // 50 ms left). The timer is this page's, but it fires before the scenario starts.
        await new Promise((resolve) => topRaf(() => resolve()));
        await new Promise((resolve) => topSetTimeout(resolve, SETTLE_MS));
        await topTask();
      }
      const main = this.windows.get(MAIN_WINDOW);
      const later = (row.later || []).slice().sort((a, b) => Number(a.at) - Number(b.at));
      const begin = () => {
        this.t0 = topNow();
        this.started = true;
        if (this.onStart) this.onStart();
        for (const block of later) {
          const at = Number(block.at);
          if (!(at <= endAt)) break;
          this.cancels.push(clock.schedule(this.t0 + at,
            () => this.queueTask(main, () => this.runScript(block.steps))));
        }
        // At endAt the row stops, unless an idle callback it posted is still waiting: a UA
        // may delay idle periods (Firefox gives about one callback per 100 ms), so the row
        // waits until it is quiet, as the reference runs until quiet, up to quietBy.
        const stopWhenQuiet = () => {
          if (this.pendingIdle() && topNow() < this.t0 + quietBy) {
            this.cancels.push(clock.schedule(topNow() + QUIET_POLL_MS, stopWhenQuiet));
          } else {
            this.finish();
          }
        };
        this.cancels.push(clock.schedule(this.t0 + endAt, stopWhenQuiet));
        if (clock !== pageClock) {
          const fallback = topSetTimeout(() => {
            if (!this.finished) {
              this.trace.notes.push("the worker's stop never came: stopped by the page's timer");
              this.finish();
            }
          }, quietBy + LIVE_FALLBACK_MS);
          this.cancels.push(() => topClearTimeout(fallback));
        }
      };
      await new Promise((resolve) => {
        this.resolveFinish = resolve;
        if (this.mode === 'live') {
          this.queueTask(main, () => {
            begin();
            this.runScript(row.steps);
          });
          return;
        }
        // Virtual: the scenario starts in the task that prepared it (the harness's evaluate,
        // or the package's load event), with no task in between. Chromium runs no task of
        // the page while virtual time is paused, and a task posted then was not reliably run
        // before the granted virtual time began to pass; the stop timer must exist before
        // then. Exceptions of the top-level steps are reported to main with reportError.
        begin();
        try {
          this.runScript(row.steps);
        } catch (error) {
          this.reportTo(main, error);
        }
      });
      return this.trace;
    }

    /** Report an exception to ctx's window, as a task's uncaught exception would be. */
    reportTo(ctx, error) {
      if (typeof ctx.win.reportError === 'function') {
        ctx.win.reportError(error);
      } else if (!this.stopped) {
        this.trace.reported.push({ window: ctx.name, type: errorName(error), message: errorMessage(error) });
      }
    }

    /** Whether an idle callback the row posted has neither run nor been cancelled. */
    pendingIdle() {
      for (const entry of this.pending) {
        if (entry.kind === 'idle' && !entry.done && !entry.cancelled) return true;
      }
      return false;
    }

    finish() {
      if (this.finished) return;
      this.finished = true;
      this.stopped = true;
      const trace = this.trace;
      trace.final_time = this.now();
      for (const cancel of this.cancels) {
        try {
          cancel();
        } catch (_) { /* best effort */ }
      }
      let quiet = true;
      for (const entry of this.pending) {
        if (entry.done || entry.cancelled) continue;
        quiet = false;
        if (entry.kind === 'idle') {
          trace.notes.push(`the idle callback '${entry.label}' posted on ${entry.ctx.name} ` +
            `(handle ${safeString(entry.handle)}) never ran by ${trace.final_time} ms`);
        }
      }
      trace.quiescent = trace.quiescent && quiet;
      this.cleanup();
      if (this.resolveFinish) this.resolveFinish();
    }

    cleanup() {
      for (const ctx of this.windows.values()) {
        try {
          ctx.queue.length = 0;
          ctx.channel.port1.onmessage = null;
          ctx.channel.port1.close();
          ctx.channel.port2.close();
          ctx.win.removeEventListener('error', ctx.listener);
        } catch (_) { /* the window may be gone */ }
      }
      for (const iframe of this.frames_) iframe.remove();
      this.frames_ = [];
      if (this.topListener) window.removeEventListener('error', this.topListener);
      this.topListener = null;
    }
  }

  function busyWait(ms) {
    const end = topNow() + ms;
    while (topNow() < end) { /* busy */ }
  }

  window.idlespecRunRow = function idlespecRunRow(rowSource, options) {
    let markStarted;
    const started = new Promise((resolve) => { markStarted = resolve; });
    const done = new Promise((resolve) => {
      let run = null;
      const fail = (error) => {
        const trace = run ? run.trace : newTrace();
        trace.quiescent = false;
        trace.notes.push(`runner failure: ${errorName(error)}: ${errorMessage(error)}`);
        if (run) {
          try {
            if (!run.finished) {
              trace.final_time = run.now();
              run.finished = true;
              run.stopped = true;
              for (const cancel of run.cancels) cancel();
              run.cleanup();
            }
          } catch (_) { /* keep what there is */ }
        }
        resolve(trace);
      };
      try {
        run = new Run(options);
        run.onStart = () => markStarted(true);
        const row = (0, eval)(`(${rowSource})`);
        run.run(row).then(resolve, fail);
      } catch (error) {
        fail(error);
      }
    });
    // Resolves to true when the scenario's first task begins (t = 0), false when the row ends
    // without starting (refused, or a runner failure).
    done.then(() => markStarted(false));
    done.started = started;
    return done;
  };
})();
