"""The pack's Python package. Everything here imports relatively: inside ComfyUI, `nodes` is ComfyUI's."""

from .comfy_bridge import blocking_on_old_comfyui
from .motionctrl_node import SegmindMotionCtrlSVD
from .preview_node import MotionCtrlCameraPreview
from .sequence_nodes import MotionCtrlCameraPreviewSequence, SegmindMotionCtrlSequence

NODE_CLASS_MAPPINGS = {
    "SegmindMotionCtrlSVD": SegmindMotionCtrlSVD,
    "MotionCtrlCameraPreview": MotionCtrlCameraPreview,
    "SegmindMotionCtrlSequence": SegmindMotionCtrlSequence,
    "MotionCtrlCameraPreviewSequence": MotionCtrlCameraPreviewSequence,
}

NODE_DISPLAY_NAME_MAPPINGS = {
    "SegmindMotionCtrlSVD": "MotionCtrl SVD (Segmind API)",
    "MotionCtrlCameraPreview": "MotionCtrl Camera Preview (local, free)",
    "SegmindMotionCtrlSequence": "MotionCtrl SVD Sequence (Segmind API)",
    "MotionCtrlCameraPreviewSequence": "MotionCtrl Camera Preview Sequence (local, free)",
}

for _node_class in NODE_CLASS_MAPPINGS.values():
    blocking_on_old_comfyui(_node_class)
