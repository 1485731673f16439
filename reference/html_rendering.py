"""Animation frames and rendering, as far as idle deadlines depend on them.

HTML ``imagebitmap-and-animations.html#animation-frames`` (``requestAnimationFrame``,
``cancelAnimationFrame``, *run the animation frame callbacks*) and the rendering half of
``#event-loop-processing-model`` (a rendering opportunity sets the *last render opportunity
time* and queues *update the rendering*). When rendering opportunities occur is the policy's
(F-07): at every vsync of the refresh rate; see :mod:`idlespec.reference.policy`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .webidl import check_callback, to_unsigned_long

if TYPE_CHECKING:
    from .window import Window


def request_animation_frame(window: Window, callback: object) -> int:
    """HTML ``#dom-animationframeprovider-requestanimationframe``."""
    check_callback(callback)
    # step 1 (not supported: NotSupportedError) does not apply to a Window.
    # step 2: target is this's relevant global object.
    # step 3: increment target's animation frame callback identifier; handle is its value.
    window.animation_frame_callback_identifier += 1
    handle = window.animation_frame_callback_identifier
    # step 4-5: set target's map of animation frame callbacks[handle] to callback.
    window.map_of_animation_frame_callbacks[handle] = callback  # type: ignore[assignment]
    window.loop.note_animation_frame_requested(window)
    # step 6
    return handle


def cancel_animation_frame(window: Window, handle: object) -> None:
    """HTML ``#animationframeprovider-cancelanimationframe``: remove callbacks[handle]."""
    window.map_of_animation_frame_callbacks.pop(to_unsigned_long(handle), None)
    window.loop.note_animation_frames_changed(window)


def update_the_rendering(window: Window, now: float) -> None:
    """The part of HTML's *update the rendering* that runs animation frame callbacks.

    ``now`` is the time of the rendering opportunity this task was queued for. The other
    steps (resize, scroll, style, layout, paint) have no bearing on idle periods.
    """
    run_the_animation_frame_callbacks(window, now)
    window.loop.note_rendering_done(window)


def run_the_animation_frame_callbacks(window: Window, now: float) -> None:
    """HTML ``#run-the-animation-frame-callbacks``."""
    # step 1: callbacks is target's map of animation frame callbacks.
    callbacks = window.map_of_animation_frame_callbacks
    # step 2: callbackHandles is the result of getting the keys of callbacks (a snapshot:
    # callbacks requested while these run wait for the next frame).
    callback_handles = list(callbacks)
    # step 3: for each handle in callbackHandles, if it still exists in callbacks:
    for handle in callback_handles:
        callback = callbacks.pop(handle, None)
        if callback is None:
            continue  # cancelled by an earlier callback of this frame
        window.loop.note_animation_frames_changed(window)
        # 3.1 callback is callbacks[handle]; 3.2 remove it; 3.3 invoke it with now,
        # reporting an exception it throws.
        window.loop.invoke_callback(window, callback, now)
