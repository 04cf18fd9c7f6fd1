"""Shared fixtures for the data tests: writers of small Databento CSV / DBN and AlgoSeek files."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

MBP1_HEADER = ["ts_recv", "ts_event", "rtype", "publisher_id", "instrument_id", "action", "side", "depth",
               "price", "size", "flags", "ts_in_delta", "sequence", "bid_px_00", "ask_px_00", "bid_sz_00",
               "ask_sz_00", "bid_ct_00", "ask_ct_00", "symbol"]


def mbp1_row(ts: str, pub: int, action: str, side: str, price: str, size: int, bid: str, ask: str,
             bsz: int, asz: int, seq: int, flags: int = 130) -> list[str]:
    """One pretty MBP-1 CSV record (ts as the ISO nanosecond string of both ts_recv and ts_event)."""
    return [ts, ts, "1", str(pub), "38", action, side, "0", price, str(size), str(flags), "0", str(seq),
            bid, ask, str(bsz), str(asz), "1", "1", "AAPL"]


@pytest.fixture
def write_csv(tmp_path: Path):
    """``write_csv(name, header, rows, newline_at_end=True) -> Path`` (rows: lists of strings)."""

    def _write(name: str, header: list[str] | None, rows: list[list[str]], newline_at_end: bool = True) -> Path:
        lines = ([",".join(header)] if header else []) + [",".join(map(str, r)) for r in rows]
        text = "\n".join(lines) + ("\n" if newline_at_end else "")
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".zip"):
            with zipfile.ZipFile(p, "w") as z:
                z.writestr(Path(name).stem + ".csv", text)
        else:
            p.write_text(text)
        return p

    return _write


@pytest.fixture
def mbp1_csv(write_csv):
    """A small two-venue MBP-1 CSV: 6 records, 2 trades, one clear."""
    rows = [
        mbp1_row("2024-08-01T13:36:32.000000001Z", 2, "A", "B", "222.81", 100, "222.81", "222.83", 421, 36, 1),
        mbp1_row("2024-08-01T13:36:32.000000001Z", 39, "A", "A", "222.84", 200, "222.80", "222.84", 50, 200, 2),
        mbp1_row("2024-08-01T13:36:32.000000005Z", 2, "T", "A", "222.81", 21, "222.81", "222.83", 421, 36, 3),
        mbp1_row("2024-08-01T13:36:32.000000007Z", 39, "T", "B", "222.84", 10, "222.80", "222.84", 50, 200, 4),
        mbp1_row("2024-08-01T13:36:32.000000009Z", 39, "T", "N", "222.84", 5, "222.80", "222.84", 50, 190, 5),
        mbp1_row("2024-08-01T13:36:33.000000000Z", 39, "R", "N", "", 0, "", "", 0, 0, 6),
    ]
    return write_csv("mbp1.csv", MBP1_HEADER, rows)


@pytest.fixture
def write_dbn(tmp_path: Path):
    """``write_dbn(name, schema, records) -> Path``; records are dicts of MBP fields (prices fixed-point)."""
    import databento_dbn as d

    def _write(name: str, schema: str, records: list[dict]) -> Path:
        sch = {"mbp-1": d.Schema.MBP_1, "mbp-10": d.Schema.MBP_10, "tbbo": d.Schema.TBBO}[schema]
        meta = d.Metadata(dataset="XNAS.ITCH", schema=sch, start=0, stype_in=d.SType.RAW_SYMBOL,
                          stype_out=d.SType.INSTRUMENT_ID, end=None, symbols=["TEST"], partial=[],
                          not_found=[], mappings=[])
        out = meta.encode()
        for r in records:
            lv = [d.BidAskPair(bid_px=r.get("bid_px", d.UNDEF_PRICE), ask_px=r.get("ask_px", d.UNDEF_PRICE),
                               bid_sz=r.get("bid_sz", 0), ask_sz=r.get("ask_sz", 0), bid_ct=1, ask_ct=1)]
            common = dict(publisher_id=r.get("pub", 2), instrument_id=1, ts_event=r["ts"], price=r.get("price", 0),
                          size=r.get("size", 0), action=d.Action(r.get("action", "A")),
                          side=d.Side(r.get("side", "N")), depth=0, flags=r.get("flags", 128),
                          ts_recv=r["ts"] + 100, ts_in_delta=0, sequence=r.get("seq", 0))
            if schema == "mbp-10":
                rec = d.MBP10Msg(levels=lv * 10, **common)
            else:
                rec = d.MBP1Msg(levels=lv[0], **common)
            out += bytes(rec)
        p = tmp_path / name
        if name.endswith(".zst"):
            import zstandard

            out = zstandard.ZstdCompressor().compress(out)
        p.write_bytes(out)
        return p

    return _write
