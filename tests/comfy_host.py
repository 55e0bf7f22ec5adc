"""A small stand-in for the parts of ComfyUI the pack touches, and a loader that imports the pack the way
ComfyUI does (by path, under a module name with dashes, beside ComfyUI's own `nodes` module).

The stand-ins follow the behaviour described in shared/reference/comfyui-internals.md: the interrupt flag
and its exception, ProgressBar, PromptServer.send_progress_text, folder_paths' temp and user folders, and
the VIDEO classes' constructors.
"""

import asyncio
import contextvars
import importlib.util
import itertools
import sys
import threading
import types
from collections import namedtuple
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class InterruptProcessingException(Exception):
    pass


class Host:
    """Installs fake ComfyUI modules into sys.modules; `uninstall()` restores what was there."""

    def __init__(self, tmp_path):
        self.tmp_path = Path(tmp_path)
        self.interrupt = False
        self.texts = []
        self.progress = []
        self.events = []  # (event, data) sent with PromptServer.send_sync
        self._saved = {}
        self.modules = self._build()

    def _build(self):
        host = self
        mm = types.ModuleType("comfy.model_management")
        mm.InterruptProcessingException = InterruptProcessingException
        mm.processing_interrupted = lambda: host.interrupt

        def throw_exception_if_processing_interrupted():
            if host.interrupt:
                host.interrupt = False
                raise InterruptProcessingException()
        mm.throw_exception_if_processing_interrupted = throw_exception_if_processing_interrupted

        utils = types.ModuleType("comfy.utils")

        class ProgressBar:
            def __init__(self, total, node_id=None):
                self.total, self.node_id = total, node_id

            def update_absolute(self, value, total=None, preview=None):
                throw_exception_if_processing_interrupted()  # ComfyUI's hook checks the flag first
                host.progress.append((self.node_id, value, total or self.total))
        utils.ProgressBar = ProgressBar

        comfy = types.ModuleType("comfy")
        comfy.model_management, comfy.utils = mm, utils

        server = types.ModuleType("server")

        class PromptServer:
            instance = None

            def send_progress_text(self, text, node_id):
                host.texts.append((node_id, text))
        PromptServer.instance = PromptServer()
        server.PromptServer = PromptServer

        folder_paths = types.ModuleType("folder_paths")
        (self.tmp_path / "temp").mkdir(parents=True, exist_ok=True)
        (self.tmp_path / "user").mkdir(parents=True, exist_ok=True)
        folder_paths.get_temp_directory = lambda: str(self.tmp_path / "temp")
        folder_paths.get_user_directory = lambda: str(self.tmp_path / "user")

        input_impl = types.ModuleType("comfy_api.input_impl")

        class VideoFromFile:
            def __init__(self, file):
                self.file = file

            def save_to(self, path, **kwargs):
                self.file.seek(0)
                Path(path).write_bytes(self.file.read())

        class VideoFromComponents:
            def __init__(self, components):
                self.components = components
        input_impl.VideoFromFile, input_impl.VideoFromComponents = VideoFromFile, VideoFromComponents
        util = types.ModuleType("comfy_api.util")

        class VideoComponents:
            def __init__(self, images, frame_rate, audio=None, metadata=None):
                self.images, self.frame_rate, self.audio, self.metadata = images, frame_rate, audio, metadata
        util.VideoComponents = VideoComponents
        comfy_api = types.ModuleType("comfy_api")
        comfy_api.input_impl, comfy_api.util = input_impl, util

        comfy_nodes = types.ModuleType("nodes")  # ComfyUI's own nodes.py: the pack must never import it
        comfy_nodes.IS_COMFYUI_NODES_MODULE = True

        # comfy_execution.utils: the executing context ComfyUI sets per node task (prompt id, node id).
        execution_utils = types.ModuleType("comfy_execution.utils")
        execution_utils.get_executing_context = EXECUTING.get
        comfy_execution = types.ModuleType("comfy_execution")
        comfy_execution.utils = execution_utils

        def send_sync(event, data, sid=None):
            import json
            json.dumps(data)  # ComfyUI's message loop dies on anything that is not plain JSON
            host.events.append((event, data))
        PromptServer.send_sync = lambda self, event, data, sid=None: send_sync(event, data, sid)
        PromptServer.instance.client_id = "test-client"
        return {"comfy": comfy, "comfy.model_management": mm, "comfy.utils": utils, "server": server,
                "folder_paths": folder_paths, "comfy_api": comfy_api, "comfy_api.input_impl": input_impl,
                "comfy_api.util": util, "nodes": comfy_nodes, "comfy_execution": comfy_execution,
                "comfy_execution.utils": execution_utils}

    def install(self):
        for name, module in self.modules.items():
            self._saved[name] = sys.modules.get(name)
            sys.modules[name] = module
        return self

    def uninstall(self):
        for name, module in self._saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
        for name in [n for n in sys.modules if n.startswith(PACK_MODULE_PREFIX)]:
            del sys.modules[name]

    def video_class(self):
        return self.modules["comfy_api.input_impl"].VideoFromFile


PACK_MODULE_PREFIX = "custom_nodes_x_segmind-motionctrl"


def load_pack(folder=ROOT, name="segmind-motionctrl"):
    """Import the pack like ComfyUI's load_custom_node: a spec from <folder>/__init__.py, a dashed name."""
    module_name = f"{PACK_MODULE_PREFIX}_{len(sys.modules)}"
    spec = importlib.util.spec_from_file_location(module_name, Path(folder) / "__init__.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def mp4_bytes(video):
    """The MP4 bytes held by a VIDEO output (the stand-in VideoFromFile or the pack's own holder)."""
    if hasattr(video, "file"):
        video.file.seek(0)
        return video.file.read()
    return video.data


DEFAULT_WIDGETS = {"motion": "Pan Left", "motion_speed": 1.0, "fps": 7, "motion_bucket_id": 127, "cond_aug": 0.02,
                   "seed": 985445, "decoding_t": 1, "maintain_aspect_ratio": True}


def widgets(**changes):
    return {**DEFAULT_WIDGETS, **changes}


_PROMPT_NUMBERS = itertools.count(1)
ExecutingContext = namedtuple("ExecutingContext", "prompt_id node_id list_index")
EXECUTING = contextvars.ContextVar("executing_context", default=None)


def run_node(pack, image, node="SegmindMotionCtrlSVD", node_id="7", prompt_id=None, **changes):
    """Call a node the way ComfyUI's executor does: its FUNCTION with every input as a keyword.
    Each call is a queued run of its own (a new prompt id), as every Queue press is in ComfyUI."""
    return run_graph(pack, [(node_id, node, dict(image=image, **widgets(**changes)))], prompt_id)[node_id]


def run_graph(pack, nodes, prompt_id=None):
    """Run nodes [(node_id, class name, inputs)] the way ComfyUI's executor (0.3.64) runs them.

    In a worker thread of its own (ComfyUI's prompt worker), one new event loop per prompt (asyncio.run). An
    async FUNCTION becomes a task, with the executing context (prompt id, node id) set for it; the others run
    while it is pending. The first node that raises ends the prompt: asyncio.run's teardown then cancels the
    other pending tasks (ComfyUI itself never cancels them). A sync FUNCTION simply blocks the loop.
    Returns {node_id: output}; raises the first node's exception.
    """
    outcome = {}
    prompt_id = prompt_id or f"prompt-{next(_PROMPT_NUMBERS)}"

    async def call(node_id, name, inputs):
        EXECUTING.set(ExecutingContext(prompt_id, node_id, 0))
        cls = pack.NODE_CLASS_MAPPINGS[name]
        result = getattr(cls(), cls.FUNCTION)(unique_id=node_id, **inputs)
        if asyncio.iscoroutine(result):
            result = await result
        return node_id, result

    async def prompt():
        tasks = [asyncio.ensure_future(call(*node)) for node in nodes]
        pending = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                node_id, result = task.result()  # the first failure propagates: the prompt ends here
                outcome[node_id] = result

    def worker():
        try:
            asyncio.run(prompt())
        except BaseException as exc:
            outcome["__error__"] = exc

    thread = threading.Thread(target=worker, name="prompt_worker")
    thread.start()
    thread.join()
    if "__error__" in outcome:
        raise outcome["__error__"]
    return outcome


def tensor_of(*arrays):
    import numpy as np
    import torch

    return torch.from_numpy(np.stack(arrays))
