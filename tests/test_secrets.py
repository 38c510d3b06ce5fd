"""Secrets never show: not in reprs, messages, log lines or tracebacks."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tramo
from tramo.redaction import redact
from tramo.secrets import MASK, Secret

secret_values = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)),
                        min_size=4, max_size=40).map(lambda s: "S3!" + s).filter(lambda s: MASK not in s)
# The "S3!" prefix keeps a generated value from being a word of the fixed texts
# around it (a value "plugin" would be found in any repr, masked or not).


def plugin_with_token() -> SimpleNamespace:
    def plugin_info() -> tramo.PluginInfo:
        return tramo.PluginInfo(name="p", platform="x", modality="y", settings=(
            tramo.Setting(name="token", secret=True),
            tramo.Setting(name="retries", kind="int", required=False, default=3),
            tramo.Setting(name="pin", secret=True, required=False, choices=("0000", "9999"))))
    return SimpleNamespace(plugin_info=tramo.hookimpl(plugin_info))


@given(secret_values)
def test_a_secret_never_prints_its_value(value: str) -> None:
    secret = Secret(value)
    for shown in (str(secret), repr(secret), f"{secret}", f"{secret!r}", f"{secret:>50}",
                  str([secret]), str({"k": secret})):
        assert value not in shown
    assert secret.reveal() == value
    assert Secret(secret) == secret


def test_a_secret_is_not_pickled() -> None:
    import pickle

    with pytest.raises(TypeError):
        pickle.dumps(Secret("hunter2-hunter2"))


@given(secret_values)
def test_connection_settings_logs_and_tracebacks_never_show_a_secret(value: str) -> None:
    registry = tramo.Registry.for_testing({"p": plugin_with_token()})
    connection = registry.connect("p", {"token": value})
    assert connection.settings["token"].reveal() == value
    records: list[logging.LogRecord] = []
    handler = _Collect(records)
    logger = logging.getLogger("tramo.plugin.p")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        connection.log.info("calling https://x.test/api?access_token=%s now", value)
        connection.log.warning(f"direct {value} in the message")
        try:
            raise RuntimeError(f"platform echoed {value}")
        except RuntimeError:
            connection.log.exception("failed")
    finally:
        logger.removeHandler(handler)
    texts = [repr(connection), str(dict(connection.settings)), repr(connection.settings)]
    texts += [handler.format(r) for r in records]
    assert len(records) == 3
    for text in texts:
        assert value not in text


def test_a_bad_secret_setting_is_refused_without_showing_it() -> None:
    registry = tramo.Registry.for_testing({"p": plugin_with_token()})
    with pytest.raises(tramo.ConfigurationError) as caught:
        registry.connect("p", {"token": "t", "pin": "not-a-number-4711"})
    assert "pin" in str(caught.value) and "4711" not in str(caught.value)
    with pytest.raises(tramo.ConfigurationError) as caught:
        registry.connect("p", {"token": "t", "retries": "many"})
    assert "'many'" in str(caught.value)


def test_a_secret_setting_is_always_text() -> None:
    with pytest.raises(tramo.ConfigurationError, match="secret"):
        tramo.Setting(name="pin", kind="int", secret=True)


def test_redaction_masks_the_longest_secret_whole() -> None:
    assert redact("key=abcdef and abc", ["abc", "abcdef"]) == f"key={MASK} and {MASK}"


class _Collect(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__()
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)



def test_credential_query_parameters_are_masked_in_urls() -> None:
    from tramo.redaction import redact_url

    url = "GET https://loja.test/web_api/orders?page=2&access_token=abc123&limit=50 200"
    assert redact_url(url) == f"GET https://loja.test/web_api/orders?page=2&access_token={MASK}&limit=50 200"
    assert redact_url("https://x.test/auth?refresh_token=zz#frag") == f"https://x.test/auth?refresh_token={MASK}#frag"


def test_personal_data_is_masked_keeping_only_the_last_digits() -> None:
    from tramo.redaction import mask_personal

    text = "cliente 529.982.247-25 / 52998224725, cnpj 11.222.333/0001-81, ana.silva@exemplo.com.br, (11) 98765-4321"
    masked = mask_personal(text)
    for leaked in ("529.982", "52998224", "11.222.333", "ana.silva", "98765"):
        assert leaked not in masked
    assert "47-25" in masked and "-81" in masked and "4321" in masked


def test_the_redacting_filter_cleans_records_from_any_logger() -> None:
    from tramo.redaction import RedactingFilter

    records: list[logging.LogRecord] = []
    handler = _Collect(records)
    handler.addFilter(RedactingFilter([Secret("S3!topsecret")]))
    logger = logging.getLogger("httpx.test-redaction")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        logger.info("HTTP Request: GET %s", "https://x.test/p?access_token=tok987 key S3!topsecret")
        try:
            raise ValueError("cpf 529.982.247-25")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    text = "\n".join(handler.format(r) for r in records)
    assert "tok987" not in text and "S3!topsecret" not in text and "529.982" not in text
