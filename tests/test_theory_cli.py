"""``sigadmm certify`` / ``sigadmm constants``: output and exit status."""

import json

from click.testing import CliRunner

from sigadmm.cli import main


def _run(*args):
    return CliRunner().invoke(main, list(args))


def test_certify_square_prints_the_table_and_exits_zero():
    r = _run("certify", "--construction", "square", "--eps", "1e-6", "--M", "1")
    assert r.exit_code == 0, r.output
    for word in ("rigorous sup error", "float64 sup error", "free parameters 3", "proven bound",
                 "largest |parameter|"):
        assert word in r.output


def test_certify_exits_nonzero_when_the_certificate_fails():
    r = _run("certify", "-c", "relu", "--eps", "1e-5", "--scale-output", "1.001")
    assert r.exit_code == 1
    assert "NOT certified" in r.output


def test_certify_json_and_other_activation():
    r = _run("certify", "-c", "product", "--eps", "1e-4", "--activation", "tanh", "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["holds"] and d["n_free_params"] == 9 and d["rigorous_sup_error"] <= 1e-4


def test_certify_bad_input_is_a_usage_error():
    r = _run("certify", "--eps", "2")
    assert r.exit_code == 2 and "eps" in r.output
    r = _run("certify", "--activation", "relu")
    assert r.exit_code == 2 and "activation" in r.output


def test_constants_lists_exact_values_and_parameters():
    r = _run("constants", "-a", "sigmoid", "--eps", "1e-6")
    assert r.exit_code == 0, r.output
    assert "L2 = sqrt(3)/18" in r.output and "L1 = 1/4" in r.output and "L3 = 1/8" in r.output
    assert "0.12768392" in r.output  # L4 enclosure
    assert "c = 1/(d^2 sigma''(t0)) = 1154700" in r.output


# ------------------------------------------------------------------ exit-code contract (issue 14)
def test_exit_codes_certified_refuted_usage_inconclusive():
    assert _run("certify", "-c", "square", "--eps", "1e-4").exit_code == 0
    r = _run("certify", "-c", "relu", "--eps", "1e-5", "--scale-output", "1.001")
    assert r.exit_code == 1 and "refuted" in r.output and "verified" in r.output
    r = _run("certify", "-c", "relu", "--eps", "1e-5", "--max-boxes", "20")
    assert r.exit_code == 3, r.output
    assert "INCONCLUSIVE" in r.output and "--max-boxes" in r.output and "can reach" not in r.output
    for bad in (["--scale-output", "nan"], ["--eps", "inf"], ["--M", "nan"], ["--dps", "3"],
                ["--max-boxes", "0"], ["--table", "--scale-output", "2"],
                ["--variant", "paper", "-c", "square"], ["--activation", "tanh", "-c", "yarotsky"]):
        r = _run("certify", *bad)
        assert r.exit_code == 2, (bad, r.output)
        assert "Traceback" not in r.output
        assert bad[0].lstrip("-").split("-")[0].lower() in r.output.lower()


def test_json_keeps_the_interval_and_status():
    r = _run("certify", "-c", "square", "--eps", "1e-6", "--json")
    d = json.loads(r.output)
    assert d["status"] == "certified" and len(d["rigorous_interval"]) == 2
    assert float(d["rigorous_interval"][1]) >= d["rigorous_lower"]


def test_constants_bad_input_exits_2():
    for bad in (["--max-order", "-1"], ["--eps", "0"], ["--M", "nan"]):
        r = _run("constants", "-a", "sigmoid", *bad)
        assert r.exit_code == 2 and "Traceback" not in r.output, (bad, r.output)
        assert bad[0] in r.output
