"""Headless Chromium for the HTML report's tests and docs/screenshot.py: Debian's
`chromium` and `chromedriver` through selenium, and a small PNG decoder (zlib + numpy) to
look at screenshots without an imaging library."""

from __future__ import annotations

import contextlib
import shutil
import struct
import zlib
from pathlib import Path

import numpy as np

CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser",
                                                 "google-chrome"))), None)
CHROMEDRIVER = shutil.which("chromedriver")


@contextlib.contextmanager
def browser(width: int = 1400, height: int = 900):
    """A headless Chromium window of `width` x `height` CSS pixels, closed on exit."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--hide-scrollbars", "--force-device-scale-factor=1",
                f"--window-size={width},{height}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        # the viewport itself, whatever the window's frame takes
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        yield driver
    finally:
        driver.quit()


def open_report(driver, folder: Path, page: str) -> Path:
    """Save `page` as folder/report.html and open it from the file."""
    path = folder / "report.html"
    path.write_text(page, encoding="utf-8")
    driver.get(path.resolve().as_uri())
    return path


def press(driver, key: str, times: int = 1) -> None:
    """Key presses sent to the page (what has the focus: the document's body at first)."""
    from selenium.webdriver.common.action_chains import ActionChains

    for _ in range(times):
        ActionChains(driver).send_keys(key).perform()


def png_pixels(data: bytes) -> np.ndarray:
    """The pixels of an 8-bit RGB or RGBA PNG (what Chromium's screenshots are), as an
    array of height x width x channels."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    channels = 3 if colour == 2 else 4
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), dtype=np.uint8)
    rows = raw.reshape(height, width * channels + 1)
    out = np.zeros((height, width * channels), dtype=np.uint8)
    prev = np.zeros(width * channels, dtype=np.uint8)
    for y in range(height):
        out[y] = _unfilter(rows[y, 0], rows[y, 1:], prev, channels)
        prev = out[y]
    return out.reshape(height, width, channels)


def _unfilter(kind: int, line: np.ndarray, prev: np.ndarray, bpp: int) -> np.ndarray:
    """One scanline without its PNG filter (None, Sub, Up, Average, Paeth)."""
    if kind == 0:
        return line.copy()
    if kind == 2:
        return line + prev
    if kind == 1:   # a running sum per channel, modulo 256
        return np.cumsum(line.reshape(-1, bpp).astype(np.int64), axis=0).astype(
            np.uint8).reshape(-1)
    cur = line.astype(np.int64)
    up = prev.astype(np.int64)
    for x in range(len(cur)):
        left = cur[x - bpp] if x >= bpp else 0
        if kind == 3:
            cur[x] = (cur[x] + (left + up[x]) // 2) & 0xFF
        else:
            corner = up[x - bpp] if x >= bpp else 0
            cur[x] = (cur[x] + _paeth(left, up[x], corner)) & 0xFF
    return cur.astype(np.uint8)


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c
