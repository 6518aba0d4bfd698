"""Chat models: the ``ChatModel`` protocol, the OpenAI-compatible client, presets, a local GGUF
backend, fallbacks and accounting."""

from zhiku.models.llm.config import ProviderConfig
from zhiku.models.llm.fallback import FallbackChatModel
from zhiku.models.llm.metered import MeteredChatModel
from zhiku.models.llm.openai_compat import OpenAIChatModel
from zhiku.models.llm.presets import PRESETS, Preset
from zhiku.models.llm.types import (
    CallRecord,
    CancelToken,
    ChatModel,
    Completion,
    Delta,
    GenerationOptions,
    Message,
    Usage,
)

__all__ = [
    "PRESETS",
    "CallRecord",
    "CancelToken",
    "ChatModel",
    "Completion",
    "Delta",
    "FallbackChatModel",
    "GenerationOptions",
    "Message",
    "MeteredChatModel",
    "OpenAIChatModel",
    "Preset",
    "ProviderConfig",
    "Usage",
]
