/*
 * idlespec's binding checks: facts about the JavaScript binding of requestIdleCallback that
 * the scenario language cannot state, as WPT's idlharness and basic tests check them. One
 * module for both JS hosts: the page runner loads it with <script> (window.idlespecBinding)
 * and the Node bridge with require(). Python names the same checks, with what each means, in
 * conformance/rows.py BINDING_CHECKS; tests/test_binding_rows.py checks that they agree.
 *
 * A check is a function of env = {global, request, cancel, deadline} (request and cancel:
 * the functions the candidate provides, which for an installing polyfill are the globals)
 * and returns a JSON scalar. A check that throws gives "throws <ErrorName>".
 */
(function (root, factory) {
  if (typeof module === 'object' && module.exports) module.exports = factory();
  else root.idlespecBinding = factory();
})(typeof self !== 'undefined' ? self : this, function () {
  'use strict';

  // How a call ended: "returned <typeof>" or "throws <ErrorName>" (the name read the way a
  // test would, from the thrown object's constructor).
  function outcome(call) {
    try {
      return 'returned ' + typeof call();
    } catch (error) {
      return 'throws ' + errorName(error);
    }
  }

  function errorName(error) {
    if (error !== null && (typeof error === 'object' || typeof error === 'function')) {
      try {
        const name = error.constructor && error.constructor.name;
        if (typeof name === 'string' && name) return name;
      } catch (ignored) {
        // a hostile getter: fall through
      }
    }
    return typeof error;
  }

  function interfaceObject(env) {
    return env.global.IdleDeadline;
  }

  function prototypeOf(env) {
    const iface = interfaceObject(env);
    return typeof iface === 'function' ? iface.prototype : undefined;
  }

  // WebIDL: an attribute is an accessor on the prototype; a read-only one has a getter and
  // no setter. Anything else is spelled out.
  function accessorShape(object, name) {
    if (object === undefined || object === null) return 'no prototype';
    const descriptor = Object.getOwnPropertyDescriptor(object, name);
    if (descriptor === undefined) return 'missing';
    if ('value' in descriptor) return 'data property';
    if (typeof descriptor.get !== 'function') return 'accessor without getter';
    return typeof descriptor.set === 'function' ? 'getter and setter' : 'getter only';
  }

  // WebIDL: an operation of a [Global] interface is an own data property of the global,
  // writable, enumerable and configurable.
  function globalProperty(env, name) {
    const descriptor = Object.getOwnPropertyDescriptor(env.global, name);
    if (descriptor === undefined) return 'missing';
    if (!('value' in descriptor)) return 'accessor';
    const flags = [];
    if (descriptor.writable) flags.push('writable');
    if (descriptor.enumerable) flags.push('enumerable');
    if (descriptor.configurable) flags.push('configurable');
    return flags.length ? flags.join(' ') : 'none';
  }

  const CHECKS = {
    'requestIdleCallback-typeof': (env) => typeof env.request,
    'cancelIdleCallback-typeof': (env) => typeof env.cancel,
    'requestIdleCallback-length': (env) => env.request.length,
    'cancelIdleCallback-length': (env) => env.cancel.length,
    'requestIdleCallback-name': (env) => env.request.name,
    'cancelIdleCallback-name': (env) => env.cancel.name,
    'requestIdleCallback-global-property': (env) => globalProperty(env, 'requestIdleCallback'),
    'cancelIdleCallback-global-property': (env) => globalProperty(env, 'cancelIdleCallback'),
    // An unknown handle: nothing is cancelled, and the return value is all there is to see.
    'cancelIdleCallback-result': (env) => outcome(() => env.cancel.call(env.global, 0)),
    'IdleDeadline-typeof': (env) => typeof interfaceObject(env),
    'IdleDeadline-global-property': (env) => globalProperty(env, 'IdleDeadline'),
    // Without an interface object these would throw TypeError for the wrong reason.
    'IdleDeadline-construct': (env) =>
      typeof interfaceObject(env) !== 'function' ? 'no interface object' : outcome(() => new (interfaceObject(env))()),
    'IdleDeadline-call': (env) =>
      typeof interfaceObject(env) !== 'function' ? 'no interface object' : outcome(() => interfaceObject(env)()),
    'IdleDeadline-prototype-to-string': (env) => Object.prototype.toString.call(prototypeOf(env)),
    'timeRemaining-on-prototype': (env) => {
      const proto = prototypeOf(env);
      const descriptor = proto && Object.getOwnPropertyDescriptor(proto, 'timeRemaining');
      return descriptor === undefined ? 'missing' : 'value' in descriptor ? typeof descriptor.value : 'accessor';
    },
    'timeRemaining-length': (env) => prototypeOf(env).timeRemaining.length,
    'didTimeout-on-prototype': (env) => accessorShape(prototypeOf(env), 'didTimeout'),
    // The rest read the IdleDeadline an idle callback was given.
    'deadline-class-string': (env) => Object.prototype.toString.call(env.deadline),
    'deadline-instanceof-IdleDeadline': (env) => env.deadline instanceof interfaceObject(env),
    'deadline-own-property-count': (env) => Reflect.ownKeys(env.deadline).length,
    'deadline-timeRemaining-unbound-call': (env) => {
      // The method the deadline itself has (a polyfill may have no IdleDeadline at all).
      const method = env.deadline === null || env.deadline === undefined ? undefined : env.deadline.timeRemaining;
      return typeof method !== 'function' ? 'no timeRemaining method' : outcome(() => method.call({}));
    },
  };

  function run(name, env) {
    const check = CHECKS[name];
    if (check === undefined) throw new Error('unknown binding check ' + name);
    try {
      const value = check(env);
      if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return value;
      return 'a ' + typeof value;
    } catch (error) {
      return 'throws ' + errorName(error);
    }
  }

  return { names: Object.keys(CHECKS), run: run };
});
