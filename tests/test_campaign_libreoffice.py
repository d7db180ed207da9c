"""A real spreadsheet client: LibreOffice Calc converts a manager workbook; ids and drop-downs survive.

CI installs Debian's ``libreoffice-calc-nogui`` (see .ci/run); without it this test skips, saying why.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
from openpyxl import load_workbook

from campaign_data import planned
from churnkit.campaign.importer import import_workbooks
from churnkit.campaign.table import read_retention

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui")
def test_libreoffice_round_trip_keeps_ids_and_dropdowns(tmp_path):
    data, result = planned(tmp_path, n=90)
    source = result.workbooks[0]
    converted = tmp_path / "converted"
    run = subprocess.run([SOFFICE, "--headless", "--norestore", f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                          "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(converted), str(source)],
                         capture_output=True, text=True, timeout=180)
    back = converted / source.name
    assert run.returncode == 0 and back.is_file(), run.stderr
    before, after = load_workbook(source)["名单"], load_workbook(back)["名单"]
    ids = [c.value for c in before["B"][1:]]
    assert [c.value for c in after["B"][1:]] == ids and all(c.data_type == "s" for c in after["B"][1:])
    assert all(len(i) == 18 for i in ids)
    kinds = {dv.type: dv for dv in after.data_validations.dataValidation}
    assert set(kinds) == {"list", "date", "decimal"}
    lists = [dv.formula1 for dv in after.data_validations.dataValidation if dv.type == "list"]
    assert any("上门拜访" in f for f in lists) and any("话术" in f for f in lists)
    assert after.protection.sheet and after.auto_filter.ref
    # the converted workbook still imports (nothing filled in: nothing changes)
    assert import_workbooks([back], data).changed == 0
    assert len(read_retention(data)) == len(result.rows)
