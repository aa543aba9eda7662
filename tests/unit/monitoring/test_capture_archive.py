"""The optional Terraform archive forwards exactly the events the service writes, as they are read.

Offline (no provider here): the module's subscription filter must select the capture kind the
writer puts at the top of each record (each record is one log event's message), and Firehose's
prefix must carry the `date=` partition the readers use.
"""

import re
from pathlib import Path

from modelops.serving.capture import CAPTURE_KIND

MODULE = Path(__file__).resolve().parents[3] / "infra" / "modules" / "capture_archive" / "main.tf"


def test_the_filter_selects_capture_events_and_objects_are_partitioned_by_date():
    text = MODULE.read_text()
    pattern = re.search(r'filter_pattern\s*=\s*"(.*)"\n', text)[1].replace('\\"', '"')
    assert pattern == f'{{ $.kind = "{CAPTURE_KIND}" }}'
    prefix = re.search(r'\n\s*prefix\s*=\s*"([^"]*)"', text)[1]
    assert prefix == "captures/date=!{timestamp:yyyy-MM-dd}/"
    assert 'compression_format  = "UNCOMPRESSED"' in text  # gzip batches are not gzipped twice
