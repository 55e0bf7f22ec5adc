"""HTTP routes the pack adds to ComfyUI's server (Settings panel): key, usage and limits."""
