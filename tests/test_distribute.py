"""--distribute: MirroredStrategy over two logical CPU devices reaches the metrics of one device."""

import json
import subprocess
import sys
import textwrap

import keras
import pytest

import kzoo
from kzoo import distribute
from tests.helpers import tiny_config, vowel_folders

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from kzoo import configs, training
    config = configs.load(sys.argv[1], ["train.epochs=4", "train.batch_size=16"])
    result = training.train(config, source=sys.argv[2], output=sys.argv[3], verbose=0, distribute_mode=sys.argv[4])
    replicas = tf.distribute.MirroredStrategy().num_replicas_in_sync
    print(json.dumps({"accuracy": result["test"]["accuracy"], "loss": result["final"]["loss"], "replicas": replicas}))
    """
)


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="tf.distribute needs the TensorFlow backend"
)
def test_mirrored_on_two_logical_cpus_matches_one_device(tmp_path):
    folder = vowel_folders(tmp_path / "data", repetitions=6)
    config = tiny_config(tmp_path / "c.yaml")
    results = {}
    for mode in ("none", "mirrored"):
        run = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(config), str(folder), str(tmp_path / mode), mode],
            capture_output=True,
            text=True,
        )
        assert run.returncode == 0, run.stderr[-3000:]
        results[mode] = json.loads(run.stdout.strip().splitlines()[-1])
    assert results["mirrored"]["replicas"] == 2
    assert abs(results["mirrored"]["accuracy"] - results["none"]["accuracy"]) <= 0.25, results
    assert abs(results["mirrored"]["loss"] - results["none"]["loss"]) <= 0.3, results


def test_unknown_mode_suggests():
    with pytest.raises(kzoo.ConfigError, match="'mirrored'"):
        distribute.scope("mirored")


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="TF_CONFIG is a tf.distribute setting"
)
def test_multi_worker_needs_tf_config(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(kzoo.ConfigError, match="TF_CONFIG"):
        distribute.scope("multi_worker")
