import subprocess
import sys
import zipfile

import pytest

import kzoo
from kzoo import configs
from tests.helpers import is_large_model

ALL_CONFIGS = configs.names()
CONFIG_PARAMS = [  # configs of large models are `slow` (tests.helpers.model_params)
    pytest.param(name, marks=pytest.mark.slow)
    if is_large_model(configs.load(name)["model"])
    else name
    for name in ALL_CONFIGS
]


@pytest.mark.parametrize("name", CONFIG_PARAMS)
def test_every_zoo_config_loads_and_builds(name):
    config = configs.load(name)
    assert config["model"] in kzoo.models.list()
    model = kzoo.models.build(config)
    assert model.count_params() > 0


def test_every_model_has_a_default_config_named_after_it():
    missing = [n for n in kzoo.models.list() if n not in ALL_CONFIGS]
    assert not missing, f"models without zoo_configs/<name>.yaml: {missing}"


def test_overrides_parse_yaml_scalars_and_lists():
    config = configs.load(
        "cnn_mlp_rnn",
        ["args.rnn_units=32", "args.conv_filters=[8, 8]", "train.optimizer.learning_rate=0.1"],
    )
    assert config["args"]["rnn_units"] == 32
    assert config["args"]["conv_filters"] == [8, 8]
    assert config["train"]["optimizer"]["learning_rate"] == 0.1


def test_override_of_a_builder_argument_missing_from_the_file():
    assert configs.load("demo", {"args.bidirectional": False})["args"]["bidirectional"] is False


@pytest.mark.parametrize(
    "override, message",
    [
        ("args.unit=3", r"args.unit.*'units'"),
        ("train.optimiser.learning_rate=3", r"'optimizer'"),
        ("trian.epochs=3", r"'train'"),
        ("noequals", r"key.path=value"),
        ("train.epochs=0", r"`train.epochs` must be an integer in \[1, "),
    ],
)
def test_bad_overrides(override, message):
    with pytest.raises(kzoo.ConfigError, match=message):
        configs.load("mlp", [override])


def _write(tmp_path, text):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text, message",
    [
        ("model: mlp\nargs: {units: [4]\n", r"c.yaml line \d+: invalid YAML"),
        ("- a\n- b\n", r"must be a mapping"),
        ("args: {}\n", r"missing required key `model`"),
        ("model: mlpp\n", r"Unknown model 'mlpp'.*'mlp'"),
        ("model: mlp\ntrian: {}\n", r"unknown top-level key 'trian'.*'train'"),
        ("model: mlp\nargs: {unitz: [3]}\n", r"args.unitz.*'units'"),
        ("model: mlp\ntrain: {batchsize: 3}\n", r"train.batchsize.*'batch_size'"),
        ("model: mlp\ndata: {validation_split: 1.5}\n", r"fraction"),
        ("model: mlp\nargs: [1, 2]\n", r"`args` must be a mapping"),
        ("model: mlp\ntrain: {metrics: accuracy}\n", r"must be a list"),
    ],
)
def test_bad_config_files(tmp_path, text, message):
    with pytest.raises(kzoo.ConfigError, match=message):
        configs.load(_write(tmp_path, text))


def test_unknown_config_name_suggests():
    with pytest.raises(kzoo.ConfigError, match=r"Unknown config 'dem'.*'demo'"):
        configs.load("dem")


def test_missing_config_file():
    with pytest.raises(kzoo.ConfigError, match="does not exist"):
        configs.load("no/such/file.yaml")


def test_dump_round_trips(tmp_path):
    config = configs.load("cnn_mlp_rnn", ["args.rnn=lstm"])
    path = tmp_path / "resolved.yaml"
    path.write_text(configs.dump(config))
    again = configs.load(path)
    assert {k: v for k, v in again.items() if k != "source"} == {
        k: v for k, v in config.items() if k != "source"
    }


def test_configs_are_plain_data(tmp_path):
    path = _write(tmp_path, "model: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(kzoo.ConfigError, match="invalid YAML"):
        configs.load(path)


def test_wheel_ships_the_zoo_configs(tmp_path):
    pytest.importorskip("hatchling")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            ".",
        ],
        check=True,
        cwd=configs.Path(__file__).resolve().parents[1],
    )
    (wheel,) = tmp_path.glob("kzoo-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for name in ALL_CONFIGS:
        assert f"kzoo/zoo_configs/{name}.yaml" in names
    # The console script's fast entry ships beside the package.
    assert "kzoo_cli.py" in names
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    assert "kzoo = kzoo_cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
