import numpy as np
import pandas as pd
import pytest

from modelops.data import generate_dataset
from modelops.params import DataParams, GenerateParams


@pytest.fixture
def data_params() -> DataParams:
    return DataParams()


@pytest.fixture
def tiny_frame(data_params) -> pd.DataFrame:
    """60 seeded rows, 4 features, balanced 0/1 target."""
    return generate_dataset(
        GenerateParams(n_rows=60, n_features=4, n_informative=3, seed=7), data_params
    )


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
