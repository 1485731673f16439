// The classic setTimeout fallback for requestIdleCallback, as MDN and countless pages ship
// it; the JS twin of idlespec.shims.settimeout (read its docstring for every requirement it
// breaks). On every row it must give exactly the Python translation's trace: that is the
// check that the Node bridge adds nothing. Like the Python translation, it reads
// performance.now() where the snippet reads Date.now(), so as not to round to whole ms.
window.requestIdleCallback =
  window.requestIdleCallback ||
  function (cb) {
    var start = performance.now();
    return setTimeout(function () {
      cb({
        didTimeout: false,
        timeRemaining: function () {
          return Math.max(0, 50 - (performance.now() - start));
        },
      });
    }, 1);
  };

window.cancelIdleCallback =
  window.cancelIdleCallback ||
  function (id) {
    clearTimeout(id);
  };
