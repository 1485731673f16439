'use strict';
/*
 * Self-hosted adapter for the fake clocks of @sinonjs/fake-timers (15.x) and lolex (6.x).
 *
 * runRow(row, pkg, options) performs one conformance row (see conformance/cases/README.md)
 * on a fresh `pkg.createClock(0)` and returns a trace shaped like Trace.to_json()
 * (conformance/trace.py). It mirrors conformance/scenario.py step by step; the differences are
 * the clock's, never the adapter's, and what the clock does that a host would not goes into
 * `notes`. Plain Node, no dependencies; the package is passed in, not required here.
 *
 * How the row is driven:
 * - A fresh clock per row from a fresh instance of the package, `pkg.withGlobal(global)` with
 *   the global of the realm the package was loaded into (`options.global`)
 *   when it exists: both packages count timer ids per instance (fake-timers from 1e12, lolex
 *   from 1), not per clock, so `pkg.createClock(0)` alone would make a row's handles depend
 *   on the rows run before it. `options.sharedInstance: true` uses `pkg.createClock` as is.
 * - The top-level steps run directly at time 0 (the page's script), outside any tick, then the
 *   clock's microtask queue is drained (`runMicrotasks`): the script task's checkpoint.
 * - `later` blocks: the clock is advanced to `at` with `tick(at - now)`, the way a test using
 *   the clock reaches a time; then the block runs as a script and its microtasks are drained.
 * - `run_until` (when not beyond `budget_ms`): `tick(run_until - now)`.
 * - Otherwise until quiet: `next()` timer by timer while `countTimers()` is non-zero, stopping
 *   when the next timer is due after `budget_ms` (peeked read-only at the clock's own timer
 *   store, as `next()` would pick it) or after `options.stepBudget` timers.
 *
 * Exceptions: a callback's exception goes into the clock, which rethrows it from
 * tick/next/runMicrotasks; what the clock rethrows is recorded in `reported` (window "main").
 * An exception that escaped one of our callbacks but that the clock never rethrew (fake-timers'
 * and lolex's `tick` rethrow only the first of a tick) is noted, not reported. Errors the clock
 * throws on its own while running (e.g. lolex eval()ing a non-function callback) are reported
 * too, and noted.
 *
 * Hang guards: a recording callback that the clock calls a second time (both clocks' runJobs
 * keeps its whole queue when a microtask throws and replays it on every later run) is recorded
 * as a second run, noted, and stops the row there (HaltSignal): the clock would replay it for
 * ever. Recording callbacks stop doing anything
 * after `stepBudget` invocations in total, so no `tick` can run unboundedly; the `next()` loop
 * counts timers against the same budget, and every other loop has a fixed bound.
 *
 * Unsupported actions (rows using them are UNSUPPORTED rather than approximated):
 * - open_window, deactivate, activate: a clock is one timer queue with no windows and no
 *   documents; a `window` field naming anything but "main" is refused for the same reason.
 * - task: the clock has no task queue besides its timers. setTimeout(cb, 0) is a timer, not a
 *   task: queued during a tick it is due 1 ms later, and it counts as a pending timer in the
 *   clocks' timeRemaining(); mapping `task` onto it would test the adapter, not the clock.
 * - busy: the running callback would need virtual time to pass without other callbacks running.
 *   tick()/jump() inside a callback run the other due timers re-entrantly, inside it;
 *   setSystemTime() moves every pending timer along with the clock, so nothing becomes
 *   overdue; writing clock.now by hand makes next() set it back to an earlier timer's time.
 *   None of these is a busy callback.
 * - chain: back-to-back tasks that are each busy: needs both `task` and `busy`.
 * Everything else maps onto the clock's own API: post -> requestIdleCallback (arguments as the
 * row gives them), cancel/cancel_handle -> cancelIdleCallback, timer -> setTimeout,
 * clear_timer -> clearTimeout, raf -> requestAnimationFrame, cancel_raf ->
 * cancelAnimationFrame, microtask -> queueMicrotask (unsupported for a clock without one, see
 * unsupportedActionsFor), raise/return/repost/sample are performed by the recording callbacks.
 */

const DEFAULT_STEP_BUDGET = 200000;
const DEFAULT_BUDGET_MS = 600000;
const MAIN_WINDOW = 'main';

const ACTIONS = [
  'post', 'repost', 'cancel', 'cancel_handle', 'timer', 'clear_timer', 'raf', 'cancel_raf',
  'task', 'microtask', 'chain', 'busy', 'open_window', 'deactivate', 'activate', 'raise',
  'sample', 'return', 'binding',
];

// binding: a fake clock's requestIdleCallback is a method of its clock object, not a
// window's WebIDL binding (no IdleDeadline interface, no global property to describe).
const UNSUPPORTED = ['open_window', 'deactivate', 'activate', 'task', 'chain', 'busy', 'binding'];

/** Step actions this adapter refuses on any clock. */
exports.unsupportedActions = UNSUPPORTED.slice();

/** The same, plus the actions whose clock method `pkg.createClock()` lacks. */
function unsupportedActionsFor(pkg) {
  const out = new Set(UNSUPPORTED);
  let clock = null;
  try {
    clock = pkg.createClock(0);
  } catch (_) {
    return ACTIONS.slice();
  }
  const needs = {
    post: 'requestIdleCallback', repost: 'requestIdleCallback',
    cancel: 'cancelIdleCallback', cancel_handle: 'cancelIdleCallback',
    timer: 'setTimeout', clear_timer: 'clearTimeout',
    raf: 'requestAnimationFrame', cancel_raf: 'cancelAnimationFrame',
    microtask: 'queueMicrotask',
  };
  for (const [action, method] of Object.entries(needs)) {
    if (typeof clock[method] !== 'function') out.add(action);
  }
  return ACTIONS.filter((a) => out.has(a));
}
exports.unsupportedActionsFor = unsupportedActionsFor;

const hasOwn = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

function actionOf(step) {
  const found = ACTIONS.filter((a) => hasOwn(step, a));
  return found.length === 1 ? found[0] : null;
}

/** Why `row` cannot run here (an empty list when it can). */
function unsupportedIn(row, unsupported) {
  const refused = new Set(unsupported || UNSUPPORTED);
  const reasons = new Set();
  const walk = (steps) => {
    for (const step of steps || []) {
      const action = actionOf(step);
      if (action === null) reasons.add(`malformed step ${safeJson(step)}`);
      else if (refused.has(action)) reasons.add(action);
      if (hasOwn(step, 'window') && step.window !== MAIN_WINDOW) reasons.add('window');
      if (step.body) walk(step.body);
    }
  };
  walk(row.steps);
  for (const block of row.later || []) walk(block.steps);
  return [...reasons].sort();
}
exports.unsupportedIn = unsupportedIn;

// JS values ------------------------------------------------------------------------------------

const MISSING = Symbol('missing'); // { js = "missing" }: the argument is not passed at all

function decodeJs(value) {
  if (Array.isArray(value)) return value.map(decodeJs);
  if (value !== null && typeof value === 'object') {
    if (hasOwn(value, 'js')) {
      switch (value.js) {
        case 'undefined': return undefined;
        case 'null': return null;
        case 'symbol': return Symbol('idlespec');
        case 'bigint': return 1n; // any BigInt: ToNumber throws TypeError whatever its value
        case 'function': return function idlespecFunction() {};
        case 'throwing-getter':
          return { get timeout() { throw new Error("getter for 'timeout' threw"); } };
        case 'throwing-valueof':
          return { valueOf() { throw new Error('valueOf threw'); } };
        case 'missing': return MISSING;
        default: throw new Error(`unknown JS value ${safeJson(value)}`);
      }
    }
    const out = {};
    for (const key of Object.keys(value)) out[key] = decodeJs(value[key]);
    return out;
  }
  return value;
}

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

/** What scenario.py's _jsonable does: JSON values pass, anything else as a string. */
function jsonable(value) {
  if (value === null || typeof value === 'boolean' || typeof value === 'number' ||
      typeof value === 'string') return value;
  return safeString(value);
}

function repr(value) {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object' && value !== null) return safeJson(value);
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

/** Python's `format(x, "g")`, for the budget note. */
function formatG(x) {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : (x > 0 ? 'inf' : '-inf');
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const exponent = Math.floor(Math.log10(Math.abs(Number(x.toPrecision(6)))));
  if (exponent < -4 || exponent >= 6) {
    const [mantissa, exp] = x.toExponential(5).split('e');
    const m = mantissa.replace(/\.?0+$/, '');
    const e = Number(exp);
    return `${m}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  const fixed = x.toFixed(Math.max(0, 5 - exponent));
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}

// The run --------------------------------------------------------------------------------------

/** Thrown into the clock by a replayed callback: the row stops. */
class HaltSignal extends Error {}

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
    final_time: 0,
    quiescent: true,
    notes: [],
  };
}

class Run {
  constructor(row, clock, stepBudget) {
    this.row = row;
    this.clock = clock;
    this.stepBudget = stepBudget;
    this.trace = newTrace();
    this.count = new Map();
    this.posts = new Map(); // idle label -> the step that posted it
    this.timers = new Map();
    this.frames = new Map();
    this.deadlines = new Map(); // idle label -> the deadline of its latest run
    this.invocations = 0;
    this.latest = clock.now; // the latest time the clock showed
    this.escaped = []; // {error, kind, label, t}: exceptions our callbacks threw into the clock
    this.surfaced = new Set(); // the errors the clock handed back to us
    this.noted = new Set();
    this.halted = false; // the clock replayed a callback: nothing more is run
  }

  noteOnce(key, text) {
    if (!this.noted.has(key)) {
      this.noted.add(key);
      this.trace.notes.push(text);
    }
  }

  /** Notes the clock moving backwards (a host's clock never does). */
  watchTime(where) {
    const now = this.clock.now;
    if (now < this.latest) {
      this.trace.notes.push(
        `the clock moved backwards from ${this.latest} ms to ${now} ms (${where})`);
    }
    this.latest = now;
  }

  // Steps --------------------------------------------------------------------------------------

  runSteps(steps, deadline, label) {
    for (const step of steps || []) {
      const action = actionOf(step);
      if (action === null || UNSUPPORTED.includes(action)) {
        throw new Error(`the adapter cannot perform ${safeJson(step)}`);
      }
      this[`do_${action}`](step, deadline, label);
    }
  }

  guard(key, call) {
    let result;
    try {
      result = call();
    } catch (error) {
      if (error instanceof ReturnSignal) throw error;
      this.trace.sync_errors[key] = errorName(error);
      return null;
    }
    if (!hasOwn(this.trace.sync_errors, key)) this.trace.sync_errors[key] = 'none';
    return result;
  }

  do_post(step) {
    const label = step.post;
    this.posts.set(label, step);
    const callback = hasOwn(step, 'callback')
      ? decodeJs(step.callback)
      : this.idleCallback(label, step.body || []);
    const options = hasOwn(step, 'options') ? decodeJs(step.options) : MISSING;
    // Arguments end at the first missing one: requestIdleCallback() takes none at all.
    const args = callback === MISSING ? [] : options === MISSING ? [callback] : [callback, options];
    const clock = this.clock;
    const handle = this.guard(label, () => clock.requestIdleCallback(...args));
    if (!hasOwn(this.trace.sync_errors, label) || this.trace.sync_errors[label] === 'none') {
      (this.trace.handles[label] = this.trace.handles[label] || []).push(jsonable(handle));
    }
  }

  do_repost(step) {
    const label = step.repost;
    if ((this.count.get(label) || 0) < step.times && this.posts.has(label)) {
      this.do_post(this.posts.get(label));
    }
  }

  do_cancel(step) {
    const handles = this.trace.handles[step.cancel];
    const key = hasOwn(step, 'id') ? step.id : `cancel-${step.cancel}`;
    if (handles && handles.length) {
      const handle = handles[handles.length - 1];
      this.guard(key, () => this.clock.cancelIdleCallback(handle));
    }
  }

  do_cancel_handle(step) {
    const value = decodeJs(step.cancel_handle);
    const args = value === MISSING ? [] : [value];
    this.guard(hasOwn(step, 'id') ? step.id : 'cancel', () => this.clock.cancelIdleCallback(...args));
  }

  do_timer(step) {
    const label = step.timer;
    const callback = this.plainCallback('timer', label, step.body || []);
    const delay = decodeJs(hasOwn(step, 'delay') ? step.delay : 0);
    this.timers.set(label, this.guard(label, () => this.clock.setTimeout(callback, delay)));
  }

  do_clear_timer(step) {
    const handle = this.timers.has(step.clear_timer) ? this.timers.get(step.clear_timer) : null;
    this.clock.clearTimeout(handle);
  }

  do_raf(step) {
    const plain = this.plainCallback('raf', step.raf, step.body || []);
    this.frames.set(step.raf, this.clock.requestAnimationFrame(() => plain()));
  }

  do_cancel_raf(step) {
    const handle = this.frames.has(step.cancel_raf) ? this.frames.get(step.cancel_raf) : null;
    this.clock.cancelAnimationFrame(handle);
  }

  do_microtask(step) {
    this.clock.queueMicrotask(this.plainCallback('microtask', step.microtask, step.body || []));
  }

  do_raise(step) {
    throw new Error(step.raise);
  }

  do_return(step) {
    throw new ReturnSignal(decodeJs(step.return));
  }

  do_sample(step, deadline, label) {
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
      t: this.clock.now,
      remaining,
      did_timeout: timedOut,
    });
  }

  // Recording callbacks ------------------------------------------------------------------------

  record(kind, label, extra) {
    this.watchTime(`before ${kind} '${label}' ran`);
    const n = (this.count.get(label) || 0) + 1;
    this.count.set(label, n);
    this.trace.calls.push({
      kind,
      label,
      window: MAIN_WINDOW,
      t: this.clock.now,
      n,
      did_timeout: extra ? extra.did_timeout : null,
      remaining: extra ? extra.remaining : null,
      argc: extra ? extra.argc : null,
    });
  }

  /** The function handed to the clock: runs `body` once, notes replays, keeps escapes. */
  guarded(kind, label, body) {
    const run = this;
    let calls = 0;
    return function recording(...args) {
      calls += 1;
      if (calls > 1) {
        // A host calls each callback once. Record the replay as what it is (a run), and stop
        // the row: the clock keeps its queue and would replay it on every later step.
        run.record(kind, label, null);
        run.noteOnce(`replay ${kind} ${label}`,
          `the clock called the ${kind} callback '${label}' again after it had run ` +
          '(a host calls it once); the row stops there, since the clock would go on replaying it');
        run.halted = true;
        run.trace.quiescent = false;
        throw new HaltSignal();
      }
      run.invocations += 1;
      if (run.invocations > run.stepBudget) {
        run.noteOnce('invocation budget',
          `step budget: more than ${run.stepBudget} callbacks ran; later ones did nothing`);
        run.trace.quiescent = false;
        return undefined;
      }
      try {
        return body(args);
      } catch (error) {
        if (error instanceof ReturnSignal) return error.value;
        run.escaped.push({ error, kind, label, t: run.clock.now });
        throw error;
      }
    };
  }

  idleCallback(label, body) {
    return this.guarded('idle', label, (args) => {
      const deadline = args.length ? args[0] : undefined;
      this.deadlines.set(label, deadline);
      const [remaining, timedOut] = this.probe(deadline);
      this.record('idle', label, { did_timeout: timedOut, remaining, argc: args.length });
      this.runSteps(body, deadline, label);
      return undefined;
    });
  }

  plainCallback(kind, label, body) {
    return this.guarded(kind, label, () => {
      this.record(kind, label);
      this.runSteps(body);
      return undefined;
    });
  }

  /** Read timeRemaining() and didTimeout; whatever the clock hands over, survive it. */
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
    }
    if (typeof timedOut !== 'boolean') {
      this.trace.notes.push(`didTimeout is ${repr(timedOut)}, not a boolean`);
      timedOut = null;
    }
    return [remaining, timedOut];
  }

  // Driving the clock --------------------------------------------------------------------------

  /** An exception handed back to the driver: by the clock, or by a script's own steps. */
  reportThrown(error, where) {
    if (error instanceof HaltSignal) return; // our own stop, not the clock's exception
    if (error instanceof ReturnSignal) {
      this.trace.notes.push(`a return step ended the ${where}`);
      return;
    }
    if (this.surfaced.has(error)) return;
    if (error !== null && (typeof error === 'object' || typeof error === 'function')) {
      this.surfaced.add(error);
    }
    this.trace.reported.push({
      window: MAIN_WINDOW, type: errorName(error), message: errorMessage(error),
    });
    const ours = this.escaped.some((e) => e.error === error);
    if (!ours && where !== 'script') {
      this.trace.notes.push(
        `the clock's ${where} threw ${errorName(error)}: ${errorMessage(error)} ` +
        '(not an exception of a callback)');
    }
  }

  /** A script (the top-level steps or a later block), then its microtask checkpoint. */
  runScript(steps) {
    try {
      this.runSteps(steps);
    } catch (error) {
      this.reportThrown(error, 'script');
    }
    this.drainMicrotasks();
  }

  drainMicrotasks() {
    if (typeof this.clock.runMicrotasks !== 'function') return;
    for (let attempt = 0; attempt < 1000; attempt++) {
      try {
        this.clock.runMicrotasks();
        break;
      } catch (error) {
        this.reportThrown(error, 'runMicrotasks()');
      } finally {
        this.watchTime('after runMicrotasks()');
      }
    }
  }

  /** tick() to `target`, retrying when an exception stopped the tick short of it. */
  tickTo(target) {
    for (let attempt = 0; attempt < 1000 && this.clock.now < target; attempt++) {
      const before = this.clock.now;
      let threw = false;
      try {
        this.clock.tick(target - this.clock.now);
      } catch (error) {
        threw = true;
        this.reportThrown(error, 'tick()');
      }
      this.watchTime(`after tick() to ${target} ms`);
      if (!threw && this.clock.now === before) break; // sub-millisecond remainder: stays
    }
  }

  /** When the timer next() would run is due (read-only peek), or undefined if unknown. */
  nextDue() {
    const clock = this.clock;
    try {
      if (clock.timerHeap && typeof clock.timerHeap.peek === 'function') { // fake-timers
        const first = clock.timerHeap.peek();
        return first ? first.callAt : undefined;
      }
      if (clock.timers && typeof clock.timers === 'object') { // lolex: a plain object by id
        let due;
        for (const id of Object.keys(clock.timers)) {
          const callAt = clock.timers[id].callAt;
          if (due === undefined || callAt < due) due = callAt;
        }
        return due;
      }
    } catch (_) { /* unknown layout */ }
    return undefined;
  }

  /** next() timer by timer until quiet, `limit`, or the step budget. Returns quiescent. */
  runUntilQuiet(limit) {
    for (let steps = 0; ; steps++) {
      if (this.halted) return false;
      if (this.clock.countTimers() === 0) return true;
      const due = this.nextDue();
      if (due !== undefined && due > limit) return false;
      if (steps >= this.stepBudget) {
        this.trace.notes.push(`step budget: more than ${this.stepBudget} timers ran`);
        return false;
      }
      try {
        this.clock.next();
      } catch (error) {
        this.reportThrown(error, 'next()');
      }
      this.watchTime('after next()');
    }
  }

  run() {
    const row = this.row;
    const budget = typeof row.budget_ms === 'number' ? row.budget_ms : DEFAULT_BUDGET_MS;
    const runUntil = typeof row.run_until === 'number' ? row.run_until : null;
    const stop = Math.min(runUntil === null ? Infinity : runUntil, budget);

    this.runScript(row.steps);
    const later = (row.later || []).slice().sort((a, b) => Number(a.at) - Number(b.at));
    for (const block of later) {
      const at = Number(block.at);
      if (at > stop || this.halted) break;
      this.tickTo(at);
      this.runScript(block.steps);
    }

    let quiescent;
    if (this.halted) {
      quiescent = false;
    } else if (runUntil !== null && runUntil <= budget) {
      this.tickTo(runUntil);
      quiescent = this.clock.countTimers() === 0;
    } else {
      quiescent = this.runUntilQuiet(budget);
      if (!quiescent && runUntil === null && !this.halted &&
          !this.trace.notes.some((n) => n.startsWith('step budget'))) {
        this.trace.notes.push(`virtual-time budget of ${formatG(budget)} ms reached`);
      }
    }
    this.trace.quiescent = this.trace.quiescent && quiescent;
    this.trace.final_time = this.clock.now;

    for (const escape of this.escaped) {
      if (!this.surfaced.has(escape.error)) {
        this.trace.notes.push(
          `the clock never rethrew ${errorName(escape.error)}: ${errorMessage(escape.error)} ` +
          `from the ${escape.kind} callback '${escape.label}' at ${escape.t} ms ` +
          '(a host would report it)');
      }
    }
    return this.trace;
  }
}

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug'];

/**
 * Run one row on a fresh clock of `pkg` (an object with createClock) and return its trace.
 * Never throws: a failure of the adapter itself ends the run with a note.
 */
exports.runRow = function runRow(row, pkg, options) {
  const stepBudget = (options && options.stepBudget) || DEFAULT_STEP_BUDGET;
  const refused = unsupportedIn(row, pkg ? unsupportedActionsFor(pkg) : UNSUPPORTED);
  if (refused.length) {
    const trace = newTrace();
    trace.quiescent = false;
    trace.notes.push(`not run: the clock cannot express ${refused.join(', ')}`);
    return trace;
  }
  // Whatever the clock writes to the console (fake-timers warns when asked to clear an id it
  // did not hand out) goes into the notes, not to the bridge's stdout or stderr.
  const saved = {};
  const written = [];
  for (const name of CONSOLE_METHODS) {
    saved[name] = console[name];
    console[name] = (...args) => written.push(`${name}: ${args.map(safeString).join(' ')}`);
  }
  let run = null;
  try {
    const shared = (options && options.sharedInstance) || typeof pkg.withGlobal !== 'function';
    // The package's own global (the realm it was loaded into), as a page's would be.
    const instance = shared ? pkg : pkg.withGlobal((options && options.global) || globalThis);
    run = new Run(row, instance.createClock(0), stepBudget);
    return run.run();
  } catch (error) {
    const trace = run ? run.trace : newTrace();
    trace.quiescent = false;
    trace.notes.push(`adapter failure: ${errorName(error)}: ${errorMessage(error)}`);
    try {
      if (run) trace.final_time = run.clock.now;
    } catch (_) { /* keep 0 */ }
    return trace;
  } finally {
    for (const name of CONSOLE_METHODS) console[name] = saved[name];
    if (run) {
      for (const line of written) {
        run.trace.notes.push(`the clock wrote to the console: ${line.split('\n')[0]}`);
      }
    }
  }
};
