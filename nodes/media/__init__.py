"""Media codecs: IMAGE tensors to the PNG/base64 Segmind takes, MP4 bytes to frames. No network, no ComfyUI."""
