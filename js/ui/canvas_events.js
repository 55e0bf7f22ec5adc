// The strip shows information only: in the classic canvas, where ComfyUI lays a DOM widget over the graph
// canvas, it hands wheel, drag and right-click back to the canvas so zooming, moving the node and its menu work
// over the strip as anywhere else on the node. (Nodes 2.0 handles this itself.) No side effects at import.

const CLASSIC_WRAPPER = ".dom-widget";

/** Forwards the element's pointer and wheel events to `getCanvas()` (a LiteGraph canvas) in the classic mode. */
export function forwardToCanvas(element, getCanvas) {
  const target = () => {
    if (!element.closest?.(CLASSIC_WRAPPER)) return null;
    const canvas = getCanvas();
    return canvas && typeof canvas.processMouseDown === "function" ? canvas : null;
  };
  element.addEventListener("wheel", (event) => {
    const canvas = target();
    if (!canvas || typeof canvas.processMouseWheel !== "function") return;
    event.preventDefault();
    canvas.processMouseWheel(event);
  }, { passive: false });
  element.addEventListener("pointerdown", (event) => {
    const canvas = target();
    if (!canvas) return;
    event.preventDefault();
    canvas.processMouseDown(event);
    // The rest of the gesture goes to the canvas element, which listens for pointermove/up itself.
    try {
      canvas.canvas?.setPointerCapture?.(event.pointerId);
    } catch {
      // The pointer may already be released (a quick click); nothing to capture.
    }
  });
  element.addEventListener("contextmenu", (event) => {
    if (target()) event.preventDefault();
  });
}
