"""Image variants for phone photos: 50 generated 12 MP JPEGs (4000 x 3000, quality 90, EXIF with
GPS; every fourth one tagged portrait, orientation 6, as phones store them).

Baseline: Pillow's own bare ``Image.open(f); im.thumbnail((1600, 1600)); im.save(JPEG)`` on the
same files (one 1600 px JPEG, no orientation, colour or metadata handling). Ours: ``process()``
producing every variant (320, 800, 1600 px in WebP and progressive JPEG, upright, sRGB, stripped).
Both run interleaved photo by photo, so they share the same machine conditions.
Quick run: ``BENCH_MEDIA_PHOTOS=10 python -m bench.media``.
"""

from __future__ import annotations

import io
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from PIL import Image

PHOTOS = int(os.environ.get("BENCH_MEDIA_PHOTOS", "50"))
WIDTH, HEIGHT = 4000, 3000
PORTRAIT_EVERY = 4
MAX_PIXELS = 50_000_000


def _generate(path: Path, seed: int) -> None:
    from tests.media import imagegen

    orientation = 6 if seed % PORTRAIT_EVERY == PORTRAIT_EVERY - 1 else 1
    image = imagegen.photo(WIDTH, HEIGHT, seed=seed)
    image.save(path, "JPEG", quality=90, exif=imagegen.exif(orientation, gps=True))


def _baseline(path: Path) -> bytes:
    with Image.open(path) as image:
        image.thumbnail((1600, 1600))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG")
    return buffer.getvalue()


def _ours(path: Path) -> list[bytes]:
    from service.media.images import process

    return [variant.data for variant in process(path.read_bytes(), max_pixels=MAX_PIXELS).variants]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        paths = [Path(tmp) / f"photo-{n:02}.jpg" for n in range(PHOTOS)]
        start = time.perf_counter()
        with ProcessPoolExecutor() as pool:
            list(pool.map(_generate, paths, range(PHOTOS)))
        generated = time.perf_counter() - start
        _baseline(paths[0]), _ours(paths[0])  # warm up: codecs loaded, caches filled

        baseline: list[float] = []
        ours: list[float] = []
        for path in paths:
            for samples, run in ((baseline, _baseline), (ours, _ours)):
                start = time.perf_counter()
                run(path)
                samples.append(time.perf_counter() - start)
        megabytes = sum(path.stat().st_size for path in paths) / len(paths) / 1e6

    portrait = [n for n in range(PHOTOS) if n % PORTRAIT_EVERY == PORTRAIT_EVERY - 1]
    landscape = [n for n in range(PHOTOS) if n not in portrait]
    print(f"media: {PHOTOS} photos {WIDTH}x{HEIGHT} JPEG (q90, {megabytes:.1f} MB each on average, "
          f"{len(portrait)} tagged portrait), generated in {generated:.1f} s")
    print(f"  {'':<34}{'total s':>9}{'ms/photo':>10}{'ratio':>8}")
    _row("Pillow thumbnail 1600 (baseline)", baseline, baseline)
    _row("process(): 3 widths x WebP+JPEG", ours, baseline)
    for label, indexes in (("landscape", landscape), ("portrait (1600x2133)", portrait)):
        if indexes:
            _row(f"  {label}, {len(indexes)} photos", [ours[n] for n in indexes], [baseline[n] for n in indexes])


def _row(label: str, samples: list[float], reference: list[float]) -> None:
    total = sum(samples)
    print(f"  {label:<34}{total:9.2f}{total / len(samples) * 1e3:10.0f}{total / sum(reference):8.2f}")


if __name__ == "__main__":
    main()
