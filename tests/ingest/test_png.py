"""The PNG encoder: Pillow (a test dependency) reads back exactly the pixels written."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from zhiku.ingest.png import encode_png


@pytest.mark.parametrize("shape", [(7, 5), (7, 5, 1), (9, 4, 3), (3, 11, 4), (1, 1, 3)])
def test_png_round_trips_every_channel_layout(shape: tuple[int, ...]) -> None:
    pixels = np.random.default_rng(7).integers(0, 256, shape, dtype=np.uint8)
    image = Image.open(io.BytesIO(encode_png(pixels)))
    back = np.asarray(image)
    assert back.shape[:2] == shape[:2]
    assert (back.reshape(pixels.shape) == pixels).all()


def test_png_reads_strided_views() -> None:
    pixels = np.random.default_rng(3).integers(0, 256, (6, 8, 4), dtype=np.uint8)[:, ::2, :3]
    back = np.asarray(Image.open(io.BytesIO(encode_png(pixels))))
    assert (back == pixels).all()


@pytest.mark.parametrize("bad", [np.zeros((2, 2, 2), np.uint8), np.zeros((2, 2, 3), np.uint16),
                                 np.zeros(4, np.uint8)])
def test_png_refuses_what_it_cannot_write(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="uint8"):
        encode_png(bad)
