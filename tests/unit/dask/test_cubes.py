"""The example analysis (src/jovial_examples/cubes.py): synthetic radio cubes as FITS and their
moment maps, as the notebook examples/cube-moments.ipynb and the Molecule test run them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

fits = pytest.importorskip("astropy.io.fits", reason="the dask extra is not installed")
dask = pytest.importorskip("dask", reason="the dask extra is not installed")

from jovial_examples import cubes  # noqa: E402

SHAPE = (32, 24, 24)


def test_a_cube_has_the_headers_of_a_radio_cube_and_is_reproducible(tmp_path):
    a = cubes.make_cube(tmp_path / "a.fits", seed=7, shape=SHAPE)
    b = cubes.make_cube(tmp_path / "b.fits", seed=7, shape=SHAPE)
    with fits.open(a) as ha, fits.open(b) as hb:
        header = ha[0].header
        assert ha[0].data.shape == SHAPE and ha[0].header["BITPIX"] == -32  # float32
        assert np.array_equal(ha[0].data, hb[0].data)
    assert (header["CTYPE1"], header["CTYPE2"], header["CTYPE3"]) == (
        "RA---SIN",
        "DEC--SIN",
        "FREQ",
    )
    assert header["BUNIT"] == "Jy/beam" and header["SPECSYS"] == "LSRK"
    assert header["RESTFRQ"] == pytest.approx(230.538e9)
    assert header["BMAJ"] > header["BMIN"] > 0


def test_moments_recover_the_noise_and_a_velocity_field(tmp_path):
    path = cubes.make_cube(tmp_path / "c.fits", seed=3, shape=(64, 48, 48))
    stats = cubes.moment_maps(path, tmp_path / "out")
    # Generated with 1 mJy/beam of noise; measured on the line-free edge channels.
    assert stats["rms_jy"] == pytest.approx(1e-3, rel=0.1)
    assert stats["detected_pixels"] > 0 and stats["flux_jy_kms"] > 0
    low, high = stats["velocity_range_kms"]
    assert low < 0 < high  # a rotating disc: both sides of systemic
    for name in ("mom0", "mom1", "mom2"):
        with fits.open(stats["products"][name]) as hdul:
            assert hdul[0].data.shape == (48, 48)
            assert hdul[0].header["CTYPE1"] == "RA---SIN"
            assert "NAXIS3" not in hdul[0].header
    with fits.open(stats["products"]["mom1"]) as hdul:
        assert hdul[0].header["BUNIT"] == "km/s"
    json.dumps(stats)  # plain data: what a Dask worker sends back


def test_the_pipeline_writes_missing_cubes_and_all_moments(tmp_path):
    stats = dask.compute(*cubes.pipeline(tmp_path, 3, shape=SHAPE), scheduler="sync")
    assert sorted(Path(s["cube"]).name for s in stats) == [
        "cube-00000.fits",
        "cube-00001.fits",
        "cube-00002.fits",
    ]
    assert len(list((tmp_path / "moments").glob("*.fits"))) == 9
    summary = cubes.summarise(list(stats))
    assert summary["cubes"] == 3 and summary["detected"] == 3
    # A second run reuses the cubes on disk and gives the same numbers.
    again = dask.compute(*cubes.pipeline(tmp_path, 3, shape=SHAPE), scheduler="sync")
    assert [s["flux_jy_kms"] for s in again] == [s["flux_jy_kms"] for s in stats]


def test_the_example_notebook_uses_the_shipped_module():
    notebook = Path(__file__).resolve().parents[3] / "examples" / "cube-moments.ipynb"
    cells = json.loads(notebook.read_text())["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert "from jovial_examples import cubes" in code
    assert "Gateway()" in code and "cubes.pipeline(" in code
    compile(code, str(notebook), "exec")
