"""The headline click model's commands: train it, combine trained ones, score a CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from feedcraft.cli.common import (
    ConfigOpt,
    StoreOpt,
    app,
    clean_errors,
    console,
    opened,
    settings_for,
)


@app.command("train-headlines")
def train_headlines_cmd(
    data: Annotated[
        Path | None,
        typer.Option(
            help="Upworthy archive packages CSV (.csv or .csv.gz) or its folder; default: "
            "$FEEDCRAFT_SHARED_DATA or ../shared/data, upworthy-archive/."
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write the model to this file.")
    ] = None,
    fine_tune: Annotated[
        bool,
        typer.Option(
            "--fine-tune",
            help="Fine-tune the sentence encoder's layers too: with the store's MiniLM, held-out "
            "pairwise accuracy ~0.619 (mean of five seeds) against 0.590, at ~7 min on two CPU "
            "cores (the frozen model takes ~5, most of it encoding the archive's texts); with "
            "all-mpnet-base-v2 on a GPU (--encoder PATH "
            "--device cuda --trainable-layers 12 --lr 5e-5 --epochs 3) ~0.638 in ~40 s, or ~45 "
            "min on two CPU cores with --precision bfloat16 (benchmarks/README.md).",
        ),
    ] = False,
    encoder: Annotated[
        str | None,
        typer.Option(
            help="With --fine-tune: the model to fine-tune, a sentence-transformers package or "
            "folder (mean-pooled), or a language model: gemma3, smollm2 (packaged) or a .gguf "
            "file (gemma3: --trainable-layers 6 --lr 5e-5 --precision bfloat16, ~20 min a seed "
            "on two CPU cores; all 18 layers with --epochs 3 won on validation but not held out, "
            "~52 min; benchmarks/README.md); default: the store's embedding model."
        ),
    ] = None,
    device: Annotated[
        str | None, typer.Option(help="With --fine-tune: cpu (default) or cuda[:N].")
    ] = None,
    trainable_layers: Annotated[
        int | None,
        typer.Option(help="With --fine-tune: top layers trained (default 6, all of MiniLM's)."),
    ] = None,
    lr: Annotated[
        float | None, typer.Option(help="With --fine-tune: learning rate (default 3e-5).")
    ] = None,
    epochs: Annotated[
        int | None, typer.Option(help="With --fine-tune: passes over the tests (default 2).")
    ] = None,
    between_weight: Annotated[
        float | None,
        typer.Option(help="With --fine-tune: weight of the between-test loss (default 0.1)."),
    ] = None,
    precision: Annotated[
        str | None,
        typer.Option(
            help="With --fine-tune: float32 (default) or bfloat16, ~1.7x faster with the same "
            "accuracy on CPUs with AVX512-BF16; on CPUs without it about as fast as float32 "
            "(its matrix products run in float32 there; benchmarks/README.md)."
        ),
    ] = None,
    seeds: Annotated[
        str | None,
        typer.Option(
            help="With --fine-tune: comma-separated seeds, one fine-tuned model each, saved as "
            "one ensemble scoring their combined lift (costs one fit and one scoring pass per "
            "seed; benchmarks/README.md, headline_ensemble.py)."
        ),
    ] = None,
    checkpoint_dir: Annotated[
        Path | None,
        typer.Option(
            help="With --fine-tune: keep each seed's training state in this folder (every 10 "
            "min and at each epoch's end) so a stopped run, rerun alike, resumes where it was."
        ),
    ] = None,
    config: ConfigOpt = None,
    store: StoreOpt = None,
) -> None:
    """Fit the headline click model on real A/B tests; save it as a new version in the store."""
    from feedcraft.ctr import FineTunedHeadlineModel, HeadlineEnsemble
    from feedcraft.services.headlines import default_upworthy_path, train_headline_model

    tuning = {
        "encoder": encoder,
        "device": device,
        "trainable_layers": trainable_layers,
        "lr": lr,
        "epochs": epochs,
        "between_weight": between_weight,
        "precision": precision,
        "seeds": seeds,
        "checkpoint_dir": checkpoint_dir,
    }
    given = [k for k, v in tuning.items() if v is not None]
    if given and not fine_tune:
        flag = "--" + given[0].replace("_", "-")
        raise typer.BadParameter("only applies with --fine-tune", param_hint=flag)
    seed_list = _seed_list(seeds) if seeds is not None else [0]
    path = data or default_upworthy_path()
    with opened(config, store) as (settings, st):
        model: FineTunedHeadlineModel | HeadlineEnsemble | None = None
        spec = encoder or settings.embedding.model
        if fine_tune:  # defaults: the MiniLM setting chosen on validation weeks
            if checkpoint_dir is not None:
                checkpoint_dir.mkdir(parents=True, exist_ok=True)
            members = [
                FineTunedHeadlineModel(
                    spec,
                    trainable_layers=6 if trainable_layers is None else trainable_layers,
                    lr=3e-5 if lr is None else lr,
                    epochs=2 if epochs is None else epochs,
                    between_weight=0.1 if between_weight is None else between_weight,
                    seed=seed,
                    device=device or "cpu",
                    precision=precision or "float32",
                    checkpoint=None
                    if checkpoint_dir is None
                    else checkpoint_dir / f"seed-{seed}.ckpt",
                )
                for seed in seed_list
            ]
            model = members[0] if seeds is None else HeadlineEnsemble(members)
        report = train_headline_model(
            path,
            store=st,
            out=out,
            encoder=spec,
            progress=settings.progress,
            cache_dir=settings.machine_cache(),
            model=model,
        )
    where = f" and to {report.path}" if report.path else ""
    console.print(
        f"trained headline model v{report.version}{escape(where)} on {report.variants} variants "
        f"of {report.tests} tests ({escape(report.encoder)}) in {report.seconds:.1f}s"
    )


def _seed_list(text: str) -> list[int]:
    """ "0,1,2" as distinct integers, else a usage error naming --seeds."""
    try:
        out = [int(part) for part in text.split(",")]
    except ValueError:
        raise typer.BadParameter(
            f"expected comma-separated integers, got {text!r}", param_hint="--seeds"
        ) from None
    if len(set(out)) != len(out) or any(s < 0 for s in out):
        raise typer.BadParameter(
            f"seeds must be distinct and >= 0, got {text!r}", param_hint="--seeds"
        )
    return out


@app.command("combine-headlines")
def combine_headlines_cmd(
    models: Annotated[
        list[Path],
        typer.Argument(
            help="Two or more model files from train-headlines --out, each once. A file "
            "that names anything but model types is refused unread."
        ),
    ],
    weights: Annotated[
        str | None,
        typer.Option(help="Comma-separated weight per model (default: equal)."),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(
            help="Upworthy archive CSV on which each model's spread is measured; default: "
            "$FEEDCRAFT_SHARED_DATA or ../shared/data, upworthy-archive/."
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write the ensemble to this file.")
    ] = None,
    config: ConfigOpt = None,
    store: StoreOpt = None,
) -> None:
    """Join trained headline models (say, one fine-tuned on a GPU machine and one here) into
    one ensemble, saved as the store's newest headline model. Model files are read by a
    loader that builds model types only (see storage.model_pickle)."""
    from feedcraft.services.headlines import combine_headline_models, default_upworthy_path

    weight_list = None
    if weights is not None:
        try:
            weight_list = [float(w) for w in weights.split(",")]
        except ValueError:
            raise typer.BadParameter(
                f"expected comma-separated numbers, got {weights!r}", param_hint="--weights"
            ) from None
    with opened(config, store) as (settings, st):
        report = combine_headline_models(
            models,
            data or default_upworthy_path(),
            weights=weight_list,
            store=st,
            out=out,
            progress=settings.progress,
            cache_dir=settings.machine_cache(),
        )
    where = f" and to {report.path}" if report.path else ""
    console.print(
        f"combined {len(models)} headline models into v{report.version}{escape(where)} "
        f"({escape(report.encoder)}) in {report.seconds:.1f}s"
    )


@app.command("score-headlines")
def score_headlines_cmd(
    in_csv: Annotated[Path, typer.Argument(help="CSV with a 'headline' column.")],
    out_csv: Annotated[Path, typer.Argument(help="Output: the input plus a 'p_click' column.")],
    model_file: Annotated[
        Path | None,
        typer.Option(
            "--model",
            help="A model file from train-headlines --out. A file that names anything but "
            "model types is refused unread.",
        ),
    ] = None,
    config: ConfigOpt = None,
    store: StoreOpt = None,
) -> None:
    """Add p_click (expected CTR on a typical package) to every row of a CSV of headlines."""
    from feedcraft.services.headline_csv import score_csv
    from feedcraft.services.headlines import load_headline_model

    if model_file is None:  # the store's newest version
        hint = "check --store, or train a model first: feedcraft train-headlines"
        with opened(config, store, missing=hint) as (settings, st):
            model, name = load_headline_model(st, cache_dir=settings.machine_cache())
            report = score_csv(model, in_csv, out_csv, progress=settings.progress, model_name=name)
    else:  # a model file: no store is opened (nor created)
        with clean_errors():
            settings = settings_for(config, store)
            model, name = load_headline_model(path=model_file, cache_dir=settings.machine_cache())
            report = score_csv(model, in_csv, out_csv, progress=settings.progress, model_name=name)
    console.print(f"scored {report.rows} rows with {escape(name)} in {report.seconds:.1f}s")
    if report.not_latin:
        console.print(
            f"warning: {report.not_latin} headlines are not in Latin script (first on line "
            f"{report.first_not_latin}); the model learnt English headlines, so their p_click "
            "is not a meaningful estimate"
        )
