"""dashboard.model_io without Streamlit: a saved network read back, and every kind of bad
file refused with one line."""

import numpy as np
import pytest

from dashboard.model_io import read_model
from dashboard.settings import Settings
from mnist_np import ModelFileError

from .model_files import BAD, NET


def test_a_saved_network_is_read_back_with_settings_that_describe_it():
    base = Settings(lr=0.05, batch_size=64, epochs=3)
    net, settings = read_model(NET.to_bytes(), base)
    for W, W_saved in zip(net.weights + net.biases, NET.weights + NET.biases):
        np.testing.assert_array_equal(W, W_saved)
    assert settings == Settings(hidden=(32, 16), activation="tanh", init="xavier", l2=1e-4,
                                seed=5, lr=0.05, batch_size=64, epochs=3)
    assert settings.net_config() == {k: v for k, v in NET.config.items() if k != "dtype"}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_file_is_refused_with_one_line(case):
    raw, message = BAD[case]
    with pytest.raises(ModelFileError) as e:
        read_model(raw, Settings())
    assert message in str(e.value) and "\n" not in str(e.value)
