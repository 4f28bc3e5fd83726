"""tether.templating without jinja2: importing is free, using it names the extra."""

import subprocess
import sys


def test_missing_jinja2_names_the_extra_and_import_stays_free() -> None:
    code = (
        "import sys\n"
        "sys.modules['jinja2'] = None  # as if it were not installed\n"
        "from tether.templating import Jinja2Templates\n"
        "from tether.exceptions import MissingDependencyError\n"
        "try:\n"
        "    Jinja2Templates(directory='.')\n"
        "except MissingDependencyError as exc:\n"
        "    assert 'tether[templating]' in str(exc), exc\n"
        "else:\n"
        "    raise SystemExit('no error')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
