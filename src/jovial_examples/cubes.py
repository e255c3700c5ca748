"""The platform's example analysis: moment maps of radio spectral cubes with ``dask.delayed``.

What the JOVIAL paper ran over thousands of ALMA cubes on the parallel filesystem, at a size
the lab can run: synthetic cubes (a rotating disc with a Gaussian line, plus noise) written as
FITS with the headers a radio cube has, then per cube the integrated intensity (moment 0),
velocity field (moment 1) and line width (moment 2) above a noise clip, written back as FITS
beside the statistics. The notebook ``examples/cube-moments.ipynb`` runs it on a Dask Gateway
cluster; the tests and ``tests/bench/bench_dask.py`` call the same functions.

Every function takes and returns plain paths and dicts, so a ``dask.delayed`` task graph of
them runs on any worker that sees the same filesystem as the notebook.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from astropy.io import fits

__all__ = ["make_cube", "moment_maps", "pipeline", "summarise"]

C_KMS = 299_792.458
REST_FREQ_HZ = 230.538e9  # CO(2-1)


def _cube_header(shape: tuple[int, int, int], seed: int) -> fits.Header:
    nchan, ny, nx = shape
    header = fits.Header()
    header["OBJECT"] = f"SYNTH-{seed:05d}"
    header["TELESCOP"] = "ALMA"
    header["BUNIT"] = "Jy/beam"
    header["BTYPE"] = "Intensity"
    header["BMAJ"] = 2.0 / 3600  # deg
    header["BMIN"] = 1.5 / 3600
    header["BPA"] = 30.0
    for axis, (ctype, cunit, n, delta, ref) in enumerate(
        [
            ("RA---SIN", "deg", nx, -0.2 / 3600, 150.0 + seed * 1e-3),
            ("DEC--SIN", "deg", ny, 0.2 / 3600, 2.2),
            ("FREQ", "Hz", nchan, 15.625e6, REST_FREQ_HZ),
        ],
        start=1,
    ):
        header[f"CTYPE{axis}"] = ctype
        header[f"CUNIT{axis}"] = cunit
        header[f"CRPIX{axis}"] = (n + 1) / 2
        header[f"CDELT{axis}"] = delta
        header[f"CRVAL{axis}"] = ref
    header["RESTFRQ"] = REST_FREQ_HZ
    header["SPECSYS"] = "LSRK"
    header["RADESYS"] = "ICRS"
    header["EQUINOX"] = 2000.0
    return header


def _velocities(header: fits.Header) -> np.ndarray:
    """Radio-convention velocity (km/s) of every channel of a FREQ third axis."""
    n = int(header["NAXIS3"])
    pix = np.arange(1, n + 1, dtype=np.float64)
    freq = header["CRVAL3"] + (pix - header["CRPIX3"]) * header["CDELT3"]
    return C_KMS * (1.0 - freq / header["RESTFRQ"])


def make_cube(path: str | Path, seed: int, shape: tuple[int, int, int] = (64, 64, 64)) -> str:
    """Write one synthetic cube (float32, ``shape`` = channels, y, x) to ``path``; returns it.

    The same ``seed`` always gives the same cube: a disc whose line centre follows a rotation
    curve across the image, a Gaussian line of 15-40 km/s, and noise of 1 mJy/beam."""
    rng = np.random.default_rng(seed)
    nchan, ny, nx = shape
    header = _cube_header(shape, seed)
    header["NAXIS"], header["NAXIS1"], header["NAXIS2"], header["NAXIS3"] = 3, nx, ny, nchan
    vel = _velocities(header)[:, None, None]
    y, x = np.mgrid[0:ny, 0:nx]
    cx, cy = nx / 2 + rng.normal(0, 2), ny / 2 + rng.normal(0, 2)
    r = np.hypot(x - cx, y - cy)
    angle = np.arctan2(y - cy, x - cx)
    vmax = rng.uniform(80, 200)
    centre = vmax * np.tanh(r / (nx / 8)) * np.cos(angle) * math.sin(math.radians(60))
    width = rng.uniform(15, 40)
    peak = rng.uniform(0.02, 0.1) * np.exp(-((r / (nx / 5)) ** 2))
    line = peak * np.exp(-0.5 * ((vel - centre) / width) ** 2)
    data = (line + rng.normal(0, 1e-3, size=shape)).astype(np.float32)
    fits.PrimaryHDU(data=data, header=header).writeto(path, overwrite=True)
    return str(path)


def moment_maps(
    cube_path: str | Path, out_dir: str | Path, clip_sigma: float = 4.0
) -> dict[str, Any]:
    """Moments 0, 1 and 2 of one cube above ``clip_sigma`` times its noise, written to
    ``out_dir`` as ``<cube>.mom0.fits`` ... ; returns the cube's statistics and the paths."""
    cube_path, out_dir = Path(cube_path), Path(out_dir)
    with fits.open(cube_path, memmap=False) as hdul:
        header = hdul[0].header
        data = np.asarray(hdul[0].data, dtype=np.float64)
    vel = _velocities(header)
    dv = abs(float(vel[1] - vel[0]))
    # Noise from the line-free edge channels (a quarter of the band each side).
    edge = max(1, data.shape[0] // 4)
    rms = float(np.std(np.concatenate([data[:edge], data[-edge:]])))
    masked = np.where(data > clip_sigma * rms, data, 0.0)
    mom0 = masked.sum(axis=0) * dv
    with np.errstate(invalid="ignore", divide="ignore"):
        weight = masked.sum(axis=0)
        mom1 = np.where(weight > 0, (masked * vel[:, None, None]).sum(axis=0) / weight, np.nan)
        var = (masked * (vel[:, None, None] - mom1) ** 2).sum(axis=0) / weight
        mom2 = np.where(weight > 0, np.sqrt(np.clip(var, 0, None)), np.nan)
    out_dir.mkdir(parents=True, exist_ok=True)
    products = {}
    for name, image, unit in (
        ("mom0", mom0, "Jy/beam.km/s"),
        ("mom1", mom1, "km/s"),
        ("mom2", mom2, "km/s"),
    ):
        plane = fits.Header()
        for key in ("OBJECT", "TELESCOP", "BMAJ", "BMIN", "BPA", "RADESYS", "EQUINOX"):
            plane[key] = header[key]
        for axis in (1, 2):
            for key in ("CTYPE", "CUNIT", "CRPIX", "CDELT", "CRVAL"):
                plane[f"{key}{axis}"] = header[f"{key}{axis}"]
        plane["BUNIT"] = unit
        plane["HISTORY"] = f"Jovial example: {name} of {cube_path.name}, clip {clip_sigma} sigma"
        path = out_dir / f"{cube_path.stem}.{name}.fits"
        fits.PrimaryHDU(data=image.astype(np.float32), header=plane).writeto(path, overwrite=True)
        products[name] = str(path)
    detected = int(np.count_nonzero(mom0 > 0))
    return {
        "cube": str(cube_path),
        "object": str(header["OBJECT"]),
        "rms_jy": rms,
        "peak_jy": float(data.max()),
        "flux_jy_kms": float(mom0.sum()),
        "detected_pixels": detected,
        "velocity_range_kms": (
            [float(np.nanmin(mom1)), float(np.nanmax(mom1))] if detected else [math.nan, math.nan]
        ),
        "products": products,
    }


def pipeline(directory: str | Path, count: int, shape: tuple[int, int, int] = (64, 64, 64)):
    """The lazy ``dask.delayed`` pipeline over ``count`` cubes in ``directory``: write each cube
    (when it is not there yet), then its moment maps into ``directory/moments``. Returns the
    list of delayed statistics; ``dask.compute(*pipeline(...))`` runs it wherever the current
    Dask client points (a gateway cluster, or this process)."""
    import dask

    directory = Path(directory)
    cubes = directory / "cubes"
    out_dir = directory / "moments"
    cubes.mkdir(parents=True, exist_ok=True)
    tasks = []
    for seed in range(count):
        path = cubes / f"cube-{seed:05d}.fits"
        cube = (
            dask.delayed(str)(path)
            if path.exists()
            else dask.delayed(make_cube, pure=True)(path, seed, shape)
        )
        tasks.append(dask.delayed(moment_maps, pure=True)(cube, out_dir))
    return tasks


def summarise(stats: list[dict[str, Any]]) -> dict[str, Any]:
    """One line per run: cubes, detections, total flux and the noise range."""
    return {
        "cubes": len(stats),
        "detected": sum(1 for s in stats if s["detected_pixels"] > 0),
        "total_flux_jy_kms": float(sum(s["flux_jy_kms"] for s in stats)),
        "rms_jy": [min(s["rms_jy"] for s in stats), max(s["rms_jy"] for s in stats)]
        if stats
        else [],
    }
