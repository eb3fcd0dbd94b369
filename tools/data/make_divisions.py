#!/usr/bin/env python3
"""Build data/divisions.csv and copy the other shipped reference files.

Usage (from the repository root):

    python3 tools/data/make_divisions.py [--shared ../shared] [--out data] [--fixtures fixtures]

Inputs (read-only, from the project's reference data folder; a checkout of the repository does
not have it, and does not need it: the outputs are committed. Maintainers keep it beside the
repository, at ../shared, or give it with --shared):
    data/chongqing-divisions-2023.csv   code,name_zh,kind  (CRLF)
    data/chongqing-counties.csv         code,name_zh,name_en,kind,former_poverty_county
    data/chongqing-legacy-codes.csv
    data/chongqing-counties.geojson
    data/id-numbers.csv
    formats/registry-columns.csv, formats/divisions-columns.csv

Outputs (UTF-8, LF, no BOM):
    data/divisions.csv                  code,name_zh,name_en,kind,former_poverty
    data/legacy-county-codes.csv
    data/chongqing-counties.geojson     (byte copy)
    data/formats/registry-columns.csv
    data/formats/divisions-columns.csv
    fixtures/id-numbers.csv

English names: counties come from chongqing-counties.csv; every other unit gets
pinyin (pypinyin, Style.NORMAL, no tones) written as one capitalised word plus an
English suffix chosen from the Chinese suffix (see SUFFIXES below).  The output
is deterministic for a given pypinyin version (see tools/requirements.txt).
"""
import argparse
import csv
import io
import re
import sys
from pathlib import Path

from pypinyin import Style, lazy_pinyin

REPO = Path(__file__).resolve().parents[2]

# Longest suffixes first.  (chinese suffix, english suffix)
SUFFIXES = [
    ("社区居民委员会", "Community"),
    ("社区工作站", "Community Workstation"),
    ("居民委员会", "Community"),
    ("村民委员会", "Village"),
    ("村委会", "Village"),
    ("苗族土家族乡", "Miao and Tujia Ethnic Township"),
    ("土家族苗族乡", "Tujia and Miao Ethnic Township"),
    ("苗族仡佬族乡", "Miao and Gelao Ethnic Township"),
    ("土家族乡", "Tujia Ethnic Township"),
    ("苗族乡", "Miao Ethnic Township"),
    ("街道", "Subdistrict"),
    ("社区", "Community"),
    ("镇", "Town"),
    ("乡", "Township"),
    ("村", "Village"),
]

# Suffixes after which a trailing 村 belongs to the committee, not to the
# proper name: 太白村村民委员会 is the committee of 太白村 -> "Taibai Village".
VILLAGE_COMMITTEE = ("村民委员会", "村委会")

# Readings that pypinyin gets wrong for place names: 长 in 长坪/长岭/长茅 is
# chang ("long"), 朝 in 朝阳 is chao.  Applied per character after conversion.
CHAR_OVERRIDES = {"长": "chang", "朝": "chao"}

_SEP = re.compile(r"[\s·•.\-—()（）]+")


def pinyin_word(han: str) -> str:
    """高笋塘 -> Gaosuntang; 东安 -> Dong'an; non-Han runs are kept as is."""
    syllables = lazy_pinyin(han, style=Style.NORMAL, v_to_u=True)
    if len(syllables) == len(han):  # one syllable per character
        syllables = [CHAR_OVERRIDES.get(ch, s) for ch, s in zip(han, syllables)]
    out = ""
    for s in syllables:
        if out and s[:1] in ("a", "o", "e") and out[-1:].isalpha():
            out += "'"  # pinyin syllable separator, as in Nan'an / Xi'an
        out += s
    return out[:1].upper() + out[1:]


def pinyin_name(han: str) -> str:
    """Split on separators such as the middle dot and pinyin each part."""
    parts = [p for p in _SEP.split(han) if p]
    return " ".join(pinyin_word(p) for p in parts)


def english_name(name_zh: str) -> str:
    for zh, en in SUFFIXES:
        if name_zh.endswith(zh) and len(name_zh) > len(zh):
            stem = name_zh[: -len(zh)]
            if zh in VILLAGE_COMMITTEE and stem.endswith("村") and len(stem) >= 3:
                stem = stem[:-1]
            return f"{pinyin_name(stem)} {en}"
    return pinyin_name(name_zh)


def read_csv(path: Path):
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def write_csv(path: Path, header, rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    write_bytes(path, buf.getvalue().encode("utf-8"))


def write_bytes(path: Path, data: bytes):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    print(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path} ({len(data)} bytes)")


def to_lf(data: bytes) -> bytes:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    data = data.replace(b"\r\n", b"\n")
    if data and not data.endswith(b"\n"):
        data += b"\n"
    return data


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=REPO / ".." / "shared",
                    help="the project's reference data folder, not in a checkout (default: ../shared next to the repo)")
    ap.add_argument("--out", type=Path, default=REPO / "data")
    ap.add_argument("--fixtures", type=Path, default=REPO / "fixtures")
    a = ap.parse_args(argv)
    shared = a.shared.resolve()
    if not (shared / "data" / "chongqing-divisions-2023.csv").is_file():
        sys.exit(f"not found: {shared}/data/chongqing-divisions-2023.csv (use --shared)")

    counties = {r["code"]: r for r in read_csv(shared / "data" / "chongqing-counties.csv")}
    divisions = read_csv(shared / "data" / "chongqing-divisions-2023.csv")

    out_rows, seen = [], set()
    for r in divisions:
        code, name, kind = r["code"].strip(), r["name_zh"].strip(), r["kind"].strip()
        if not re.fullmatch(r"\d{12}", code):
            sys.exit(f"bad code in source: {code!r}")
        if code in seen:
            sys.exit(f"duplicate code in source: {code}")
        seen.add(code)
        former = ""
        if kind == "county":
            c = counties.get(code[:6])
            if c is None:
                sys.exit(f"county {code} missing from chongqing-counties.csv")
            if c["name_zh"] != name:
                print(f"warning: county {code}: {name} vs {c['name_zh']}", file=sys.stderr)
            name_en = c["name_en"]
            former = c["former_poverty_county"].strip()
            if former not in ("", "national", "municipal"):
                sys.exit(f"county {code}: unexpected former_poverty_county {former!r}")
        else:
            name_en = english_name(name)
        out_rows.append([code, name, name_en, kind, former])

    n_county = sum(1 for r in out_rows if r[3] == "county")
    n_former = sum(1 for r in out_rows if r[4])
    if n_county != len(counties) or n_former != 18:
        sys.exit(f"expected {len(counties)} counties and 18 former poverty counties, "
                 f"got {n_county} and {n_former}")

    write_csv(a.out / "divisions.csv", ["code", "name_zh", "name_en", "kind", "former_poverty"], out_rows)

    copies = [
        (shared / "data" / "chongqing-legacy-codes.csv", a.out / "legacy-county-codes.csv", True),
        (shared / "data" / "chongqing-counties.geojson", a.out / "chongqing-counties.geojson", False),
        (shared / "formats" / "registry-columns.csv", a.out / "formats" / "registry-columns.csv", True),
        (shared / "formats" / "divisions-columns.csv", a.out / "formats" / "divisions-columns.csv", True),
        (shared / "data" / "id-numbers.csv", a.fixtures / "id-numbers.csv", True),
    ]
    for src, dst, text in copies:
        data = src.read_bytes()
        write_bytes(dst, to_lf(data) if text else data)


if __name__ == "__main__":
    main()
