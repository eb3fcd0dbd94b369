#!/usr/bin/env python3
"""Fetches axe-core (the accessibility checker the browser test runs in each page) from the npm
registry, checks the tarball's SHA-256, and writes axe.min.js to target/axe/axe.min.js, where
crates/web/tests/browser.rs looks for it. Run by .ci/run; run it by hand to check pages locally.
"""
import hashlib
import io
import os
import sys
import tarfile
import urllib.request

VERSION = "4.10.2"
URL = f"https://registry.npmjs.org/axe-core/-/axe-core-{VERSION}.tgz"
SHA256 = "9ea2d2d6917da998122bdacfd3b473e31ead53f4b87146c716a12edf89158100"


def main() -> int:
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target"))
    out = os.path.join(target, "axe", "axe.min.js")
    if os.path.exists(out):
        print(f"axe-core {VERSION}: {out} (already there)")
        return 0
    with urllib.request.urlopen(URL, timeout=120) as response:
        data = response.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256:
        print(f"axe-core {VERSION}: SHA-256 {digest} is not the expected {SHA256}", file=sys.stderr)
        return 1
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        script = tar.extractfile("package/axe.min.js").read()
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "wb") as f:
        f.write(script)
    print(f"axe-core {VERSION}: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
