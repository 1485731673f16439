/*
 * The best requestIdleCallback polyfill a page can build: userland, host primitives only.
 *
 * The JavaScript port of idlespec.shims.polyfill (shims/polyfill.py), line for line: same
 * probes, nesting-level tracking, gate, deadline computation, frame-grid learning, timeout
 * chunks, order of operations and numbers, so that it gets the same verdicts as the Python
 * one on every conformance row. A classic script: it runs in a window's realm and installs
 * window.requestIdleCallback and window.cancelIdleCallback.
 *
 * Licence: MIT (idlespec's own code).
 *
 * It uses nothing but what a page has (setTimeout, clearTimeout, requestAnimationFrame,
 * cancelAnimationFrame, performance.now(), reportError) and follows the spec's algorithms
 * wherever a page can see what they read:
 *
 * - Lists and handles. Its own identifier counts from 1 per window; a list of idle request
 *   callbacks and a list of runnable ones; an idle period appends the pending list to the
 *   runnable one (leftovers first), so callbacks posted during a period wait for a later one.
 * - Idle periods. A page cannot ask the loop whether a task is runnable, but it can ask a
 *   zero-delay timer: it is queued behind every task already queued, so if it runs at the very
 *   time it was set, nothing that took time ran before it. Such a *probe* is repeated until one
 *   runs on time; that one starts the idle period. Then one callback runs per timer task (its
 *   microtasks run before the next), while now is before the deadline. The next period
 *   starts no earlier than the last one's deadline, frozen at its start (N-05).
 * - Deadlines. min(period start + 50, the next pending timer, the next frame),
 *   re-evaluated on every timeRemaining(). The page's setTimeout and requestAnimationFrame
 *   go through wrappers (this script replaces the window's globals, which the page and the
 *   scenario look up at each call), so the polyfill knows every timer's expiry (with HTML's
 *   nesting clamp) and whether a frame callback is pending. A timer caps until its time has
 *   come, even if cleared (as in HTML's map of active timers). Frames are assumed on a 60 Hz
 *   grid from the time origin until rAF timestamps show the grid (and a faster rate, never a
 *   slower one).
 * - Timeouts. A timer per timed callback (in chunks below 2**31 ms): it runs the callback
 *   wherever it waits, with didTimeout true and timeRemaining() 0 for ever. Timers keep
 *   HTML's expiry order, which is rIC's (posted time + timeout, ties by posting order). A
 *   timer paused while its window was not fully active is fired at once on return: the
 *   spec's timeout wait does not pause.
 * - Cancel removes the callback from both lists and clears its timeout timer.
 * - Exceptions go to reportError; the next callback still runs.
 * - WebIDL as the reference does it (idlespec.reference.webidl), on real JS values: the
 *   callback, then the options, before anything else, so a failed call consumes no handle.
 *
 * Timer nesting. After five nested timer tasks HTML clamps a delay under 4 ms to 4 ms, and a
 * clamped probe cannot tell an idle loop from a chain of 1 ms tasks (both land on time). The
 * polyfill tracks the nesting level of its window's timer tasks and, where a probe would be
 * clamped, first waits for an animation frame: a rendering task resets the level. When the
 * loop visits task sources in turn (F-04), only a probe queued from a timer task is sure to
 * wait for a task of every other source, so a probe queued from anywhere else is confirmed by
 * a second one.
 *
 * What it costs against the reference (ref rows, INFO only): a period starts up to one frame
 * late after a long busy stretch (the probe may wait for a frame); in a long period the later
 * callbacks are 4 ms apart (the nesting clamp on its chain of timer tasks). On a host that
 * picks task sources in turn, its probes also share the timer task source with the page's
 * timers and can make one of them a task round late (legitimate, F-09, but it can swap two
 * timeouts due 10 ms apart; the suite's default host takes the oldest task first).
 *
 * Rows no userland polyfill can pass
 * ----------------------------------
 *
 * One cause: HTML's computeDeadline reads the map of active timers of *every* same-loop
 * window. A userland polyfill is installed per window and gets only that window's primitives;
 * no primitive reaches another window's timers (a polyfill in same-origin frames could
 * coordinate through window.top, which this host does not model), and another window's timer
 * neither runs in nor delays this window's tasks, so no probe can notice it.
 *
 * - deadlines-other-window-timer-caps: a second window's 5 ms timer caps the main window's
 *   deadline; the main window's polyfill never sees that timer.
 * - deadlines-main-window-timer-caps-other-window: the same, the other way round.
 * - windows-other-windows-timer-caps-deadline: the same scenario, in the windows table.
 * - windows-inactive-windows-paused-timer-still-caps-deadline: a paused timer of an inactive
 *   second window caps the main window's deadline; invisible likewise.
 * - windows-inactive-windows-overdue-timer-starves-other-window: that paused timer, once
 *   overdue, holds every window's idle callbacks until it fires at 320 ms; the main window's
 *   polyfill cannot know it exists and runs its callback at 100 ms.
 *
 * The first three rows hide a 5 ms timer, below any frame term, so a polyfill that blindly
 * capped every period at one frame (16.7 ms) cannot pass them by coincidence either.
 *
 * Translation notes (Python -> JS):
 * - The Python dicts of callbacks (insertion-ordered) are Maps; its set of frames is a Set;
 *   its heapq of timer expiries is a small binary heap (heapPush/heapPop below).
 * - host.now() is performance.now() and host.report_error is reportError, both looked up at
 *   each call as the Python looks them up on the host; setTimeout, clearTimeout,
 *   requestAnimationFrame and cancelAnimationFrame are saved at install, as in Python, and
 *   the polyfill's own timers and frames use the saved ones.
 * - The Python polyfill hands the page a host with three primitives wrapped; here the
 *   window's setTimeout, clearTimeout, requestAnimationFrame and cancelAnimationFrame are
 *   replaced. A page timer's handler is called with the window as
 *   this, as HTML does; extra setTimeout arguments are not passed on (nor in Python).
 * - IdleDeadline is an interface object on the window, shaped as WebIDL shapes one (the
 *   binding rows check it; Python has no such thing to check): calling or constructing it
 *   throws TypeError (the polyfill builds its own with a token the page cannot reach);
 *   timeRemaining() is on the prototype, didTimeout a getter, both refusing any other this
 *   (a private field's brand check); the prototype's class string is [object IdleDeadline].
 *   requestIdleCallback's length is 1 (options is optional).
 * - WebIDL runs on real JS values: ToNumber is unary plus (a Symbol or a BigInt throws a
 *   TypeError; a throwing valueOf or timeout getter propagates as it is).
 * - OverflowError is a RangeError; Python's TypeError for a missing required argument is
 *   WebIDL's TypeError for a call with too few arguments.
 * - Python's KeyError on a broken invariant (a timeout whose callback is gone) is an Error.
 */
(function installPolyfill(window) {
  'use strict';

  const CAP_MS = 50; // HTML step 5.2.1: an idle period lasts at most 50 ms
  const FRAME_MS = 1000 / 60; // assumed until frames are seen to come faster
  const MAX_DELAY_MS = 2147483647; // 2**31 - 1: setTimeout's delay is a long; longer waits go in chunks
  const MAX_HANDLE = 4294967295; // 2**32 - 1: the handle is an unsigned long
  const CLAMP_LEVEL = 5; // HTML timers: past this nesting level a delay under 4 ms becomes 4 ms
  const CLAMP_MS = 4;
  // How late a zero-delay probe may run and still mean "idle": a real clock moves (µs)
  // across the timer's round trip even on an idle loop; a task of 1 ms or more shows as busy.
  const PROBE_SLACK_MS = 1;
  const EPSILON = 1e-9;
  const TWO_32 = 4294967296;
  const TWO_31 = 2147483648;

  // WebIDL, as idlespec.reference.webidl does it, on real JS values ----------------------

  /** ECMAScript ToNumber: unary plus (throws for a Symbol or a BigInt, calls valueOf). */
  function toNumber(value) {
    return +value;
  }

  /** WebIDL unsigned long with no extended attributes (ConvertToInt(V, 32, unsigned)).
   * NaN, +-0 and +-Infinity give 0; anything else is truncated toward zero and taken
   * modulo 2**32. */
  function toUnsignedLong(value) {
    const x = toNumber(value);
    if (x !== x || x === Infinity || x === -Infinity || x === 0) {
      return 0;
    }
    let r = Math.trunc(x) % TWO_32; // exact on doubles
    if (r < 0) {
      r += TWO_32;
    }
    return r + 0; // never -0
  }

  /** WebIDL long with no extended attributes: like unsigned long, then signed 32-bit. */
  function toLong(value) {
    const x = toUnsignedLong(value);
    return x >= TWO_31 ? x - TWO_32 : x;
  }

  /** WebIDL callback function conversion: a value that is not callable is a TypeError. */
  function checkCallback(callback) {
    if (typeof callback !== 'function') {
      throw new TypeError(typeof callback + ' is not a callable callback');
    }
  }

  /** Convert options to an IdleRequestOptions dictionary; return its timeout, or null
   * when the member is not present (options undefined or null, or its timeout undefined).
   * An Object (functions and arrays too) has its timeout read (one [[Get]]: a throwing
   * getter propagates); any other type is a TypeError. */
  function convertIdleRequestOptions(options) {
    if (options === undefined || options === null) {
      return null;
    }
    if (typeof options !== 'object' && typeof options !== 'function') {
      throw new TypeError('IdleRequestOptions must be an object, not ' + typeof options);
    }
    const value = options.timeout;
    if (value === undefined) {
      return null;
    }
    return toUnsignedLong(value);
  }

  /** WebIDL: a required argument missing is a TypeError (Python: a missing positional). */
  function requireArguments(count, needed, name) {
    if (count < needed) {
      throw new TypeError(name + ': ' + needed + ' argument required, but only ' + count + ' present');
    }
  }

  // A heap of numbers, as Python's heapq (only the least item is ever read) ---------------

  function heapPush(heap, item) {
    let pos = heap.length;
    heap.push(item);
    while (pos > 0) {
      const parent = (pos - 1) >> 1;
      if (heap[parent] <= item) {
        break;
      }
      heap[pos] = heap[parent];
      pos = parent;
    }
    heap[pos] = item;
  }

  function heapPop(heap) {
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0) {
      let pos = 0;
      const n = heap.length;
      for (;;) {
        let child = 2 * pos + 1;
        if (child >= n) {
          break;
        }
        if (child + 1 < n && heap[child + 1] < heap[child]) {
          child += 1;
        }
        if (heap[child] >= last) {
          break;
        }
        heap[pos] = heap[child];
        pos = child;
      }
      heap[pos] = last;
    }
    return top;
  }

  // The host ------------------------------------------------------------------------------

  function hostNow() {
    return performance.now();
  }

  function hostReportError(error) {
    reportError(error);
  }

  // What an idle callback receives: timeRemaining() and didTimeout ------------------------

  const CONSTRUCT = Symbol('IdleDeadline construction'); // never leaves this script

  class IdleDeadline {
    #now;
    #deadline;
    #didTimeout;

    constructor(token, now, deadline, didTimeout) {
      // WebIDL: an interface without a constructor operation throws TypeError.
      if (token !== CONSTRUCT) throw new TypeError('Illegal constructor');
      this.#now = now;
      this.#deadline = deadline;
      this.#didTimeout = didTimeout;
    }

    /** Milliseconds until the deadline, re-evaluated on each call, never below 0. */
    timeRemaining() {
      return Math.max(0, this.#deadline() - this.#now());
    }

    get didTimeout() {
      return this.#didTimeout;
    }
  }
  Object.defineProperty(IdleDeadline.prototype, Symbol.toStringTag, {
    value: 'IdleDeadline',
    configurable: true,
  });

  // requestIdleCallback and cancelIdleCallback for this window ----------------------------
  //
  // It wraps the window's setTimeout, requestAnimationFrame and cancelAnimationFrame (so the
  // page's own timers and frames go through it) to learn the expiries of pending timers and
  // whether a frame is pending.

  const setTimeout_ = window.setTimeout;
  const clearTimeout_ = window.clearTimeout;
  const requestFrame_ = window.requestAnimationFrame;
  const cancelFrame_ = window.cancelAnimationFrame;

  let lastHandle = 0;
  const pending = new Map(); // the list of idle request callbacks
  const runnable = new Map(); // the list of runnable idle callbacks
  const timeouts = new Map(); // handle -> [its timer, expiry]
  let armed = false; // a task of ours will start the next idle period
  let gate = -Infinity; // the last period's deadline, frozen at its start (N-05)
  let depth = 0; // timer nesting level of the running timer task, as far as known
  const timers = []; // expiries of the page's timers (a heap)
  const unrun = new Map(); // the page's timers not yet run nor cleared: id -> expiry
  const frames = new Set(); // the page's pending animation frame callbacks
  let lastFrame = null; // the latest frame time seen
  let frameMs = FRAME_MS;

  // The binding ---------------------------------------------------------------------------

  /** requestIdleCallback(callback, options): queue callback, return its handle.
   * Throws TypeError if callback is not callable or options does not convert (WebIDL,
   * checked before anything else: a failed call consumes no handle), RangeError if the
   * handle would pass 2**32 - 1. */
  function requestIdleCallback(callback) {
    const options = arguments[1]; // optional: not counted in length (WebIDL)
    checkCallback(callback);
    const timeout = convertIdleRequestOptions(options);
    if (lastHandle >= MAX_HANDLE) {
      throw new RangeError('the idle callback identifier would pass 2**32 - 1');
    }
    lastHandle += 1;
    const handle = lastHandle;
    pending.set(handle, callback);
    if (timeout) {
      armTimeout(handle, hostNow() + timeout);
    }
    arm();
    return handle;
  }

  /** cancelIdleCallback(handle): forget it, whether pending, runnable or timing. */
  function cancelIdleCallback(handle) {
    requireArguments(arguments.length, 1, 'cancelIdleCallback');
    const key = toUnsignedLong(handle);
    if (!pending.delete(key)) {
      runnable.delete(key);
    }
    forgetTimeout(key);
  }

  // Idle periods --------------------------------------------------------------------------

  /** See to it that the next idle period starts, if there is anything to run. */
  function arm() {
    if (armed || !(pending.size || runnable.size)) {
      return;
    }
    armed = true;
    waitForGate();
  }

  /** Wait until the last period's frozen deadline (N-05), then probe for idleness.
   *
   * A timer that lands on the gate exactly serves when its task can still probe
   * unclamped. Otherwise animation frames wait out whole frames (they come from rendering
   * tasks, which reset the timer nesting level the probe needs low), and a timer the rest. */
  function waitForGate() {
    const now = hostNow();
    if (now >= gate) {
      probe();
      return;
    }
    const delay = Math.ceil(gate - now);
    if (now + delay === gate && depth < CLAMP_LEVEL) {
      timer(probe, delay);
    } else if (nextFrame(now) <= now + delay) {
      requestFrame_(afterFrame(waitForGate));
    } else {
      timer(probe, delay);
    }
  }

  /** Queue a zero-delay timer: if it runs within 1 ms of when it was set, the loop was idle.
   *
   * A zero-delay timer goes behind every task already queued, so any of them that took
   * time shows as lateness. When the loop visits its task sources in turn, only a timer
   * queued from a timer task is sure to wait for a task of every other source: one
   * queued from anywhere else is not trusted, and an on-time run of it only probes again.
   * A clamped (4 ms) timer could not tell an idle loop from one busy with 1 ms tasks,
   * so a nesting level that would clamp is reset first by waiting for an animation frame
   * (a rendering task, not a timer task). */
  function probe() {
    if (depth > CLAMP_LEVEL) {
      requestFrame_(afterFrame(probe));
      return;
    }
    const setAt = hostNow();
    const trusted = depth > 0;
    timer(function () {
      onProbe(setAt, trusted);
    }, 0);
  }

  function afterFrame(then) {
    return function frame(timestamp) {
      noteFrame(timestamp);
      then();
    };
  }

  function onProbe(setAt, trusted) {
    if (!(pending.size || runnable.size)) {
      armed = false;
    } else if (
      hostNow() - setAt >= PROBE_SLACK_MS ||
      !trusted ||
      overdueTimeouts(setAt) ||
      pageTimerDue()
    ) {
      // The loop is busy, or not known to be idle, or timeouts go first, or a page timer's
      // task is queued behind this probe.
      probe();
    } else {
      startIdlePeriod();
    }
  }

  /** rIC "start an idle period": pending callbacks join the runnable ones, in order. */
  function startIdlePeriod() {
    const start = hostNow();
    pending.forEach(function (callback, handle) {
      runnable.set(handle, callback);
    });
    pending.clear();

    function periodDeadline() {
      return deadlineFor(start);
    }

    gate = periodDeadline();
    invoke(periodDeadline);
  }

  /** rIC "invoke idle callbacks": run the first runnable callback, one per task. */
  function invoke(periodDeadline) {
    if (runnable.size && hostNow() < periodDeadline()) {
      const handle = runnable.keys().next().value;
      const callback = runnable.get(handle);
      runnable.delete(handle);
      call(handle, callback, new IdleDeadline(CONSTRUCT, hostNow, periodDeadline, false));
      if (runnable.size) {
        timer(function () {
          invoke(periodDeadline);
        }, 0);
        return;
      }
    }
    armed = false;
    arm();
  }

  /** HTML's computeDeadline, as far as this window can see. */
  function deadlineFor(start) {
    const now = hostNow();
    let deadline = start + CAP_MS;
    if (forgetPastTimers(now)) {
      deadline = Math.min(deadline, timers[0]);
    }
    if (frames.size) {
      deadline = Math.min(deadline, nextFrame(now));
    }
    return deadline;
  }

  /** Whether a page timer's time has come but it has not run: its task is queued. HTML
   * removes a timer from the map of active timers when its wait ends and then queues its
   * task; a probe due at the same moment can run first, but the loop is not idle while that
   * task waits (html#event-loop-processing-model step 5). */
  function pageTimerDue() {
    const now = hostNow();
    for (const expiry of unrun.values()) {
      if (expiry <= now) {
        return true;
      }
    }
    return false;
  }

  /** Drop the page's timers whose time has come (they cap no more); any left? */
  function forgetPastTimers(now) {
    while (timers.length && timers[0] <= now) {
      heapPop(timers);
    }
    return timers.length > 0;
  }

  /** The frame after the latest one due by now, on the grid of frames seen. */
  function nextFrame(now) {
    const phase = lastFrame === null ? 0 : lastFrame;
    const count = Math.floor((now - phase) / frameMs + EPSILON);
    return phase + (count + 1) * frameMs;
  }

  function noteFrame(timestamp) {
    if (lastFrame !== null && timestamp > lastFrame) {
      frameMs = Math.min(frameMs, timestamp - lastFrame);
    }
    lastFrame = timestamp;
  }

  // Timeouts ------------------------------------------------------------------------------

  function armTimeout(handle, expiry) {
    const delay = Math.min(Math.ceil(expiry - hostNow()), MAX_DELAY_MS) + 0; // an int: never -0
    const id = timer(function () {
      onTimeout(handle, expiry);
    }, delay);
    timeouts.set(handle, [id, expiry]);
  }

  function forgetTimeout(handle) {
    const entry = timeouts.get(handle);
    if (entry !== undefined) {
      timeouts.delete(handle);
      clearTimeout_(entry[0]);
    }
  }

  /** Re-arm, to fire at once, timeouts that should have run before setAt.
   *
   * Such a timer was paused while the window was not fully active; the spec's timeout
   * wait does not pause, so on return the callback runs timed out before any idle period. */
  function overdueTimeouts(setAt) {
    const overdue = [];
    timeouts.forEach(function (entry, handle) {
      if (entry[1] + CLAMP_MS <= setAt) {
        overdue.push([entry[1], handle]);
      }
    });
    overdue.sort(function (a, b) {
      return a[0] - b[0] || a[1] - b[1]; // (expiry, handle), as Python sorts the tuples
    });
    for (let i = 0; i < overdue.length; i += 1) {
      forgetTimeout(overdue[i][1]);
      armTimeout(overdue[i][1], overdue[i][0]);
    }
    return overdue.length > 0;
  }

  /** rIC "invoke idle callback timeout": run it, timed out, wherever it waits. */
  function onTimeout(handle, expiry) {
    const now = hostNow();
    if (now < expiry) {
      armTimeout(handle, expiry); // one chunk of a wait longer than a long
      return;
    }
    if (!timeouts.delete(handle)) {
      throw new Error('idle callback ' + handle + ' has no timeout'); // Python: KeyError
    }
    let callback;
    if (pending.has(handle)) {
      callback = pending.get(handle);
      pending.delete(handle);
    } else if (runnable.has(handle)) {
      callback = runnable.get(handle);
      runnable.delete(handle);
    } else {
      throw new Error('idle callback ' + handle + ' is gone'); // Python: KeyError
    }
    call(
      handle,
      callback,
      new IdleDeadline(CONSTRUCT, hostNow, function () {
        return now;
      }, true)
    );
  }

  /** Call callback; report what it throws, and go on. */
  function call(handle, callback, deadline) {
    forgetTimeout(handle);
    try {
      callback(deadline);
    } catch (error) {
      // a callback may throw anything; the others still run
      hostReportError(error);
    }
  }

  // Timers and frames ---------------------------------------------------------------------

  /** setTimeout, keeping track of the timer nesting level of its task. */
  function timer(callback, delay) {
    const level = depth + 1;

    function task() {
      const outer = depth;
      depth = level;
      try {
        callback();
      } finally {
        depth = outer;
      }
    }

    return setTimeout_(task, delay);
  }

  /** The page's setTimeout: noted, so that the timer caps idle deadlines. */
  function pageSetTimeout(callback, delay) {
    checkCallback(callback);
    const ms = toLong(delay); // undefined -> NaN -> 0, Python's default
    let expiry = Math.max(ms, 0);
    if (depth > CLAMP_LEVEL && expiry < CLAMP_MS) {
      expiry = CLAMP_MS;
    }
    const id = timer(function () {
      unrun.delete(id);
      Reflect.apply(callback, window, []); // HTML calls a handler with the WindowProxy as this
    }, ms);
    const now = hostNow();
    forgetPastTimers(now);
    heapPush(timers, now + expiry);
    unrun.set(id, now + expiry);
    return id;
  }

  /** The page's clearTimeout: a cleared timer never runs (its cap lasts, as HTML's). */
  function pageClearTimeout(handle) {
    try {
      unrun.delete(toLong(handle));
    } catch (error) {
      // what cannot be a long matches no timer; clearTimeout itself says so below
    }
    return clearTimeout_(handle);
  }

  /** The page's requestAnimationFrame: noted, so that frames cap idle deadlines. */
  function pageRequestFrame(callback) {
    checkCallback(callback);
    let handle = 0;

    function frame(timestamp) {
      frames.delete(handle);
      noteFrame(timestamp);
      callback(timestamp);
    }

    handle = requestFrame_(frame);
    frames.add(handle);
    return handle;
  }

  /** The page's cancelAnimationFrame. */
  function pageCancelFrame(handle) {
    requireArguments(arguments.length, 1, 'cancelAnimationFrame');
    cancelFrame_(handle);
    frames.delete(toUnsignedLong(handle));
  }

  window.setTimeout = pageSetTimeout;
  window.clearTimeout = pageClearTimeout;
  window.requestAnimationFrame = pageRequestFrame;
  window.cancelAnimationFrame = pageCancelFrame;
  window.requestIdleCallback = requestIdleCallback;
  window.cancelIdleCallback = cancelIdleCallback;
  // An interface object: writable and configurable, not enumerable (WebIDL).
  Object.defineProperty(window, 'IdleDeadline', {
    value: IdleDeadline,
    writable: true,
    enumerable: false,
    configurable: true,
  });
})(window);
