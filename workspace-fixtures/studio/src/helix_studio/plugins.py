"""The Studio's plugin loader and its trust policy.

Policy: with OMNIS_HELIX_PLUGIN_REQUIRE_SIGNED=1 only plugins signed by a key in
the trust store, whose contents match the signed manifest, are imported. With
the variable unset (or 0) such plugins still load, with a warning on stderr. A
structurally hostile zip (path traversal, symlink, duplicate names, entries
outside the manifest, zip bomb, malformed) is refused under either policy.
The packaged Studio sets the variable to 1 unless the user set it (see
packaging/rthook_require_signed.py).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from helix_studio.plugin_zip import MAX_PLUGIN_FILE_BYTES, PluginRejected, TrustStore, VerifiedPlugin, verify_plugin_zip

REQUIRE_SIGNED_VAR = "OMNIS_HELIX_PLUGIN_REQUIRE_SIGNED"


def require_signed(environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """True when the environment asks for signed plugins only."""
    value = environ.get(REQUIRE_SIGNED_VAR, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"{REQUIRE_SIGNED_VAR}={value!r}: use 1 to require signed plugins or 0 to allow unsigned ones")


@dataclass
class LoadedPlugin:
    """A plugin that passed the policy and was imported."""

    name: str
    version: str
    trust_code: str
    key_name: str | None
    run: Callable[[list[str]], str]
    source: str


@dataclass
class Refusal:
    """A plugin that was not imported, and why."""

    source: str
    code: str
    reason: str


class PluginHost:
    """Loads plugin zips from a folder according to the trust policy."""

    def __init__(self, trust: TrustStore, required: bool, warn: Callable[[str], None]) -> None:
        self.trust = trust
        self.required = required
        self.warn = warn
        self.loaded: dict[str, LoadedPlugin] = {}
        self.refused: list[Refusal] = []
        self._workdir = tempfile.mkdtemp(prefix="helix-studio-plugins-")
        self._count = 0

    def close(self) -> None:
        """Removes the extracted plugin files."""
        shutil.rmtree(self._workdir, ignore_errors=True)

    def load_folder(self, folder: str) -> None:
        """Loads every *.zip in `folder`, in name order."""
        for zip_path in sorted(Path(folder).glob("*.zip")):
            self.load_zip(str(zip_path))

    def load_zip(self, path: str) -> None:
        """Verifies one plugin zip, applies the policy and imports it if allowed."""
        source = os.path.basename(path)
        try:
            with open(path, "rb") as handle:
                # A file larger than any plugin zip is refused unread (it is never held in memory).
                size = os.fstat(handle.fileno()).st_size
                if size > MAX_PLUGIN_FILE_BYTES:
                    raise PluginRejected("PLUGIN_ZIP_BOMB", None, f"{size} bytes: larger than any plugin zip can be (limit {MAX_PLUGIN_FILE_BYTES})")
                data = handle.read(MAX_PLUGIN_FILE_BYTES + 1)
            plugin = verify_plugin_zip(data, self.trust)
        except OSError as err:
            self._refuse(source, "PLUGIN_UNREADABLE", str(err))
            return
        except PluginRejected as err:
            self._refuse(source, err.code, f"{err.entry + ': ' if err.entry else ''}{err.reason}")
            return
        if plugin.trust_code != "PLUGIN_OK":
            if self.required:
                self._refuse(source, plugin.trust_code, f"{plugin.trust_reason} ({REQUIRE_SIGNED_VAR}=1)")
                return
            self.warn(f"warning: loading plugin {source} anyway: {plugin.trust_code}: {plugin.trust_reason} "
                      f"(set {REQUIRE_SIGNED_VAR}=1 to refuse it)")
        if plugin.name in self.loaded:
            self._refuse(source, "PLUGIN_DUPLICATE_NAME", f"a plugin named {plugin.name!r} is already loaded")
            return
        # A folder of our own naming (never from the metadata), one per zip.
        self._count += 1
        root = Path(self._workdir) / f"plugin-{self._count}"
        try:
            run = self._import(plugin, root)
        except PluginLoadFailed as err:
            shutil.rmtree(root, ignore_errors=True)
            self._refuse(source, "PLUGIN_LOAD_FAILED", str(err))
            return
        self.loaded[plugin.name] = LoadedPlugin(plugin.name, plugin.version, plugin.trust_code, plugin.key_name, run, source)

    def _refuse(self, source: str, code: str, reason: str) -> None:
        self.refused.append(Refusal(source, code, reason))
        self.warn(f"refused plugin {source}: {code}: {reason}")

    def _import(self, plugin: VerifiedPlugin, root: Path) -> Callable[[list[str]], str]:
        """Writes the verified bytes under `root` and imports the entry point; PluginLoadFailed otherwise."""
        base = root.resolve()
        try:
            root.mkdir(parents=True)
            for name, content in plugin.files.items():
                target = root / name
                # The verifier refused unsafe names; this holds even if it had not.
                if not target.resolve().is_relative_to(base):
                    raise PluginLoadFailed(f"{name}: would be written outside the plugin's folder")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
                if name in plugin.executable:
                    target.chmod(0o755)
        except OSError as err:
            raise PluginLoadFailed(f"cannot write the plugin's files: {err.strerror or err}") from None
        module_name, _, function_name = plugin.entry.partition(":")
        module_file = root / (module_name.replace(".", "/") + ".py")
        if not module_file.resolve().is_relative_to(base) or not module_file.is_file():
            raise PluginLoadFailed(f"entry module {module_name} is not a file of the plugin")
        spec = importlib.util.spec_from_file_location(f"helix_plugins.{root.name.replace('-', '_')}", module_file)
        if spec is None or spec.loader is None:
            raise PluginLoadFailed(f"cannot import entry module {module_name}")
        module = importlib.util.module_from_spec(spec)
        # The plugin's folder stays importable, so that modules it imports
        # lazily (inside its functions) are found too.
        sys.path.insert(0, str(root))
        try:
            spec.loader.exec_module(module)
        except (Exception, SystemExit) as err:  # the plugin's own code: any failure is its refusal, never the Studio's crash
            sys.path.remove(str(root))
            raise PluginLoadFailed(f"importing {module_name} failed: {type(err).__name__}: {err}") from None
        function = getattr(module, function_name, None)
        if not callable(function):
            sys.path.remove(str(root))
            raise PluginLoadFailed(f"{plugin.entry}: {module_name} has no function {function_name}")
        return function


class PluginLoadFailed(Exception):
    """A verified plugin could not be written or imported (reported as PLUGIN_LOAD_FAILED)."""
