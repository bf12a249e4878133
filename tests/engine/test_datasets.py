"""Data sets of MNIST's shape beside MNIST (issue 18, item 5): Fashion-MNIST and
Kuzushiji-MNIST through the same checked path (mirrors, published SHA-256s, a cache
subfolder each, a local folder), and any folder of the four files with classes.txt.
Downloads are real, from a local HTTP server, of generated IDX files."""

import pytest

from mnist_np import data
from mnist_np.data import DATASETS, FILES, DataError, load_dataset, load_folder, load_mnist

from .test_data import assert_matches, free_port, one_line_error, server, small_set, write_set

__all__ = ["server"]  # a fixture


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """No user settings, no user cache, no network: every mirror is a closed local port."""
    for spec in DATASETS.values():
        monkeypatch.delenv(spec.dir_env, raising=False)
        monkeypatch.setenv(spec.mirrors_env, f"http://127.0.0.1:{free_port()}/")
    monkeypatch.delenv("MNIST_NP_DATASETS", raising=False)
    monkeypatch.setenv("MNIST_CACHE", str(tmp_path / "env-cache"))


def test_the_registry_holds_the_published_checksums_and_names():
    fashion, kmnist = DATASETS["fashion"], DATASETS["kmnist"]
    assert fashion.sha256["train-images-idx3-ubyte.gz"].startswith("3aede38d6186")
    assert kmnist.sha256["t10k-labels-idx1-ubyte.gz"].startswith("20bb9a0ef54c")
    assert fashion.classes[7] == "Sneaker" and kmnist.classes[0].startswith("お")
    for spec in DATASETS.values():
        assert set(spec.sha256) == set(FILES.values()) and len(spec.classes) == 10
        assert all(len(h) == 64 for h in spec.sha256.values())
    assert len({spec.subfolder for spec in DATASETS.values()}) == 3  # no shared cache files


@pytest.mark.parametrize("key", ["fashion", "kmnist"])
def test_download_from_a_local_mirror_into_its_own_cache_folder(server, tmp_path, key):
    root, url = server
    arrays = small_set(seed=3)
    hashes = write_set(root / key, arrays)
    cache = tmp_path / "cache"
    spec = DATASETS[key]
    got = load_dataset(key, cache_dir=cache, mirrors=url + key, hashes=hashes)
    assert_matches(got, arrays)
    assert (got.source, got.title, got.classes) == (spec.source, spec.title, spec.classes)
    assert got.notice is None and got.public_origin.startswith("downloaded from 127.0.0.1:")
    assert sorted(p.name for p in cache.iterdir()) == [spec.subfolder]
    assert all((cache / spec.subfolder / name).is_file() for name in FILES.values())
    # later: from the cache, without the network
    again = load_dataset(key, cache_dir=cache, hashes=hashes)
    assert again.origin == f"cache {cache / spec.subfolder}" and again.source == spec.source
    # MNIST's cache is not Fashion's: MNIST is not found there (the sample stands in)
    assert load_mnist(cache_dir=cache, hashes=hashes).source == "mnist-sample-5k"


def test_the_published_checksum_guards_a_download(server, tmp_path):
    root, url = server
    write_set(root, small_set())  # not the real Fashion-MNIST files
    with pytest.raises(DataError) as e:
        load_dataset("fashion", cache_dir=tmp_path / "c", mirrors=url)
    one_line_error(e, "SHA-256 does not match", DATASETS["fashion"].sha256[FILES[
        "train_images"]])
    assert not any((tmp_path / "c" / "fashion-mnist").glob("*.gz"))  # nothing kept


def test_another_set_that_cannot_be_had_is_one_line_and_no_sample(tmp_path):
    with pytest.raises(DataError) as e:
        load_dataset("fashion", cache_dir=tmp_path / "c")
    one_line_error(e, "Fashion-MNIST is not available: no mirror could be reached",
                   "connection refused")
    with pytest.raises(DataError) as e:
        load_dataset("kmnist", cache_dir=tmp_path / "c", allow_download=False)
    one_line_error(e, "Kuzushiji-MNIST is not available: downloading is turned off")
    # MNIST alone falls back on its offline sample
    assert load_dataset("mnist", cache_dir=tmp_path / "c").source == "mnist-sample-5k"


def test_a_local_folder_by_environment(tmp_path, monkeypatch):
    arrays = small_set(seed=4)
    write_set(tmp_path / "fashion", arrays, gz=False)
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path / "fashion"))
    got = load_dataset("fashion")
    assert_matches(got, arrays)
    assert got.public_origin == "from the FASHION_MNIST_DIR folder"
    assert got.classes[9] == "Ankle boot"


def _folder(tmp_path, classes: str | None, name: str = "letters"):
    folder = tmp_path / name
    write_set(folder, small_set(seed=6))
    if classes is not None:
        (folder / "classes.txt").write_text(classes, encoding="utf-8")
    return folder


def test_any_folder_with_its_class_names(tmp_path, monkeypatch):
    names = [f"letter {c}" for c in "ABCDEFGHIJ"]
    folder = _folder(tmp_path, "\n".join(names) + "\n\n")
    got = load_folder(folder)
    assert got.classes == tuple(names) and got.source == "folder:letters"
    assert got.title == "letters" and got.public_origin == "from the letters folder"
    monkeypatch.setenv("MNIST_NP_DATASETS", f"my-letters={folder}, bad name=/x, =/y, mnist=/z")
    assert data.folder_datasets() == {"my-letters": folder}
    assert load_dataset("my-letters").source == "folder:my-letters"
    with pytest.raises(DataError) as e:
        load_dataset("cifar")
    one_line_error(e, "unknown data set 'cifar'; choose from mnist, fashion, kmnist, my-letters")


@pytest.mark.parametrize("classes, words", [
    (None, "classes.txt: missing (the ten class names"),
    ("a\nb\nc", "3 class names, expected 10"),
    ("\n".join("aaaaaaaaab"), "not all different"),
    ("\n".join(["x" * 41, *"bcdefghij"]), "line 1 is not a short printable name"),
])
def test_a_folder_without_good_class_names_is_one_line(tmp_path, classes, words):
    with pytest.raises(DataError) as e:
        load_folder(_folder(tmp_path, classes))
    one_line_error(e, words)


def test_a_folder_with_bad_files_is_one_line(tmp_path):
    folder = _folder(tmp_path, "\n".join("abcdefghij"))
    (folder / FILES["test_labels"]).write_bytes(b"broken")
    with pytest.raises(DataError) as e:
        load_folder(folder)
    one_line_error(e, "t10k-labels-idx1-ubyte.gz", "not a gzip file")


def test_cli_trains_on_a_folder_and_a_file_remembers_its_data(tmp_path):
    import json
    import os

    from .test_cli import run

    env = {k: v for k, v in os.environ.items() if k != "MNIST_DIR"}
    env |= {"MNIST_CACHE": str(tmp_path / "cache"), "MNIST_MIRRORS": "http://127.0.0.1:9/",
            "FASHION_MNIST_MIRRORS": "http://127.0.0.1:9/"}
    folder = _folder(tmp_path, "\n".join(f"letter {c}" for c in "ABCDEFGHIJ"))
    out = tmp_path / "letters.npz"
    result = run("train", "--dataset", str(folder), "--hidden", "8", "--epochs", "1",
                 "--quiet", "--json", "--out", str(out), env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1])["data_source"] == "folder:letters"
    assert "data: letters (folder:letters" in result.stderr
    # resumed on other data (MNIST's offline sample here): said in one line, not trained
    result = run("train", "--resume", str(out), "--epochs", "2", "--quiet", env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "trained on 'folder:letters'" in result.stderr.splitlines()[-1]
    result = run("train", "--dataset", "fashion", "--quiet", env=env)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith(
        "error: Fashion-MNIST is not available: no mirror could be reached")
