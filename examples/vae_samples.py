"""A variational autoencoder of log-mel spectrograms: reconstructions and samples from the prior.

Trains kzoo's `vae` zoo model (Kingma & Welling 2014) with its recipe (Adam,
`mse` reconstruction plus the KL term its sampling layer adds) on the log-mel
frames (31 frames x 40 mel bands, 0.3 s) of the embedded `vowels` data set, then

- prints the reconstruction mean squared error on the held-out test split (codes
  are the posterior means at inference), next to the error of always predicting
  the mean training spectrogram, for scale;
- writes a PNG with test inputs, their reconstructions, and spectrograms decoded
  from codes drawn from the prior N(0, I) (`model.get_layer("decoder")`).

    python examples/vae_samples.py --output runs/vae_samples

`--architecture conv` uses the convolutional variant; `--repetitions` and
`--speakers` shrink the synthetic data set (a quick check), `--epochs` the run.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import keras
import matplotlib
import numpy as np

import kzoo
from kzoo.data import pipeline, vowels

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the Agg backend


def plot(inputs, reconstructions, samples, path: Path) -> None:
    """Rows: inputs, reconstructions, prior samples; each a (frames, mels) log-mel image."""
    columns = len(inputs)
    fig, axes = plt.subplots(3, columns, figsize=(1.6 * columns, 5.2), squeeze=False)
    low, high = np.percentile(inputs, [1, 99])
    rows = (("input", inputs), ("reconstruction", reconstructions), ("prior sample", samples))
    for r, (title, images) in enumerate(rows):
        for c in range(columns):
            ax = axes[r, c]
            ax.imshow(images[c].T, origin="lower", aspect="auto", vmin=low, vmax=high)
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(title)
    fig.suptitle("vae on vowels log-mel (time across, mel bands up)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("runs/vae_samples"))
    parser.add_argument("--architecture", choices=("dense", "conv"), default="dense")
    parser.add_argument("--latent-dim", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--speakers", type=int, default=9, help="synthetic speakers")
    parser.add_argument("--repetitions", type=int, default=24, help="per vowel and speaker")
    parser.add_argument("--columns", type=int, default=8, help="examples in the figure")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    started = time.perf_counter()

    # The zoo config's data block (log-mel features, splits, targets = inputs) on the
    # embedded vowels, generated at the requested size.
    config = kzoo.configs.load(
        "vae",
        {
            "args.architecture": args.architecture,
            "args.latent_dim": args.latent_dim,
            "args.seed": args.seed,
        },
    )
    generated = vowels.generate(
        num_speakers=args.speakers, repetitions=args.repetitions, seed=args.seed
    )
    examples = kzoo.data.Examples(
        kind="audio",
        inputs=list(generated["audio"]),
        labels=generated["vowel"],
        class_names=generated["vowel_names"],
        sample_rate=vowels.SAMPLE_RATE,
    )
    data = pipeline.prepare(examples, config["data"], config["train"]["batch_size"], args.seed)
    x_train, _ = data.arrays["train"]
    x_test, _ = data.arrays["test"]

    # kzoo.models.get compiles with the config's recipe: Adam(1e-3), mse (+ the KL term).
    model = kzoo.models.get("vae", **{**config["args"], "input_shape": list(data.input_shape)})
    history = model.fit(
        data.train, validation_data=data.validation, epochs=args.epochs, shuffle=False, verbose=0
    )
    train_seconds = time.perf_counter() - started

    reconstructions = model.predict(x_test, verbose=0)  # codes = posterior means
    mse = float(np.mean((reconstructions - x_test) ** 2))
    baseline = float(np.mean((x_train.mean(axis=0) - x_test) ** 2))
    z = np.random.default_rng(args.seed).standard_normal((args.columns, args.latent_dim))
    samples = model.get_layer("decoder").predict(z.astype("float32"), verbose=0)

    args.output.mkdir(parents=True, exist_ok=True)
    figure = args.output / "vae_samples.png"
    shown = np.linspace(0, len(x_test) - 1, args.columns).astype(int)
    plot(x_test[shown], reconstructions[shown], samples, figure)
    result = {
        "test_mse": mse,
        "mean_spectrogram_mse": baseline,
        "final_loss": float(history.history["loss"][-1]),
        "figure": str(figure),
        "sizes": data.sizes,
        "input_shape": list(data.input_shape),
        "seconds": round(time.perf_counter() - started, 1),
        "train_seconds": round(train_seconds, 1),
    }
    (args.output / "results.json").write_text(json.dumps(result, indent=2))
    print(
        f"vae ({args.architecture}, latent {args.latent_dim}) on {data.sizes['train']} vowel "
        f"spectrograms {tuple(data.input_shape)}, {result['seconds']:.0f} s: test reconstruction "
        f"MSE {mse:.4f} (mean-spectrogram baseline {baseline:.4f}); figure {figure}"
    )
    return result


if __name__ == "__main__":
    main()
