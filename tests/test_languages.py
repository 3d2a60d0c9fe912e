"""Every language: analysis per language, FAQ sections in other languages, mixed-language indexes."""

import pytest

from faqbot.text.analyze import analyze, words
from faqbot.search.answer import ask
from faqbot.ingest.extract import extract_passages, is_faq_heading, is_question
from faqbot.index.store import Index
from faqbot.index.incremental import index_sources
from faqbot.ingest.read_markdown import read_markdown


def test_german_question_and_passage_share_stems():
    question = analyze("Wie kündige ich meine Verträge?", "de")
    passage = analyze("Sie können Ihre Verträge jederzeit kündigen.", "de")
    assert set(question) <= set(passage)
    assert "ich" not in question and "meine" not in question  # German stopwords
    assert analyze("meine Verträge") != analyze("meine Verträge", "de")  # English analysis differs


@pytest.mark.parametrize("lang, text, expected", [
    ("es", "¿Cómo cancelo mis contratos?", ["com", "cancel", "contrat"]),  # question words kept, as in English
    ("fr", "l'homme qu'il aime", ["homm", "aim"]),
    ("ru", "Как отменить договоры?", ["отмен", "договор"]),
    ("el", "Ποια είναι η πρωτεύουσα της Ελλάδας;", ["εινα", "πρωτευ", "ελλαδ"]),  # PyStemmer (nltk has no Greek)
    ("tr", "Türkiye'nin başkenti neresidir?", ["türki", "başke", "neres"]),
])
def test_snowball_stems_per_language(lang, text, expected):
    assert analyze(text, lang) == expected


def test_chinese_and_thai_become_character_bigrams():
    assert analyze("如何取消合同", "zh") == ["如何", "何取", "取消", "消合", "合同"]
    assert words("abc中文") == ["abc", "中文"]
    assert words("中") == ["中"]
    thai = analyze("คำถามที่พบบ่อย", "th")
    assert len(thai) > 5 and all(len(t) == 2 for t in thai)


def test_indic_vowel_signs_stay_inside_words():
    assert words("हिन्दी भाषा") == ["हिन्दी", "भाषा"]
    assert "का" not in analyze("हिन्दी भाषा का इतिहास", "hi")  # a Hindi stopword


def test_arabic_letter_forms_are_normalised():
    assert analyze("أحمد", "ar") == analyze("احمد", "ar")
    assert analyze("مَدْرَسَة", "ar") == analyze("مدرسة", "ar")


def test_arabic_stemmer_sees_ta_marbuta():
    # "the glacial (period)" in a question and "the glacial" in a passage: the feminine suffix -ية
    # is only removed while ة is still written as ة, so normalising comes after stemming.
    assert analyze("الجليدية", "ar") == analyze("الجليدي", "ar")
    assert analyze("الفترة", "ar") == analyze("فترة", "ar") == ["فتر"]


@pytest.mark.parametrize("heading", [
    "FAQ", "Frequently Asked Questions", "Häufig gestellte Fragen (FAQ)", "Häufige Fragen",
    "Questions fréquentes", "Foire aux questions", "Preguntas frecuentes", "Domande frequenti",
    "Perguntas frequentes", "Veelgestelde vragen", "Najczęściej zadawane pytania",
    "Часто задаваемые вопросы", "常见问题", "常见问题解答", "よくある質問", "الأسئلة الشائعة",
])
def test_faq_headings_in_many_languages(heading):
    assert is_faq_heading(heading)


@pytest.mark.parametrize("text", ["Fragenkatalog", "Preguntas", "问题", "Frequently", "Questionnaire"])
def test_other_headings_are_not_faq_headings(text):
    assert not is_faq_heading(text)


def test_question_marks_of_other_scripts():
    assert is_question("如何取消合同？") and is_question("كيف ألغي العقد؟") and is_question("Is it free?")
    assert not is_question("Preise und Tarife")


@pytest.mark.parametrize("doc, lang", [
    ("## Häufig gestellte Fragen (FAQ)\n\n### Wie kündige ich?\n\nSchriftlich, jederzeit.\n\n"
     "### Was kostet es?\n\nNichts, es ist kostenlos.\n", "de"),
    ("## Questions fréquentes\n\n### Comment résilier ?\n\nPar écrit, à tout moment.\n\n"
     "### Combien ça coûte ?\n\nRien, c'est gratuit.\n", "fr"),
    ("## Preguntas frecuentes\n\n### ¿Cómo cancelo?\n\nPor escrito, en cualquier momento.\n\n"
     "### ¿Cuánto cuesta?\n\nNada, es gratis.\n", "es"),
    ("## 常见问题\n\n如何取消合同？\n\n随时以书面形式取消。\n\n费用是多少？\n\n免费。\n", "zh"),
])
def test_faq_sections_in_other_languages_give_faq_pairs(doc, lang):
    article = read_markdown(f"---\nlang: {lang}\n---\n# T\n\n{doc}")
    faqs = [p for p in extract_passages(article, "a") if p.kind == "faq"]
    assert len(faqs) == 2
    assert faqs[0].text and faqs[1].text


def _write(folder, name, lang, body):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.md").write_text(f"---\ntitle: {name}\nlang: {lang}\n---\n\n{body}\n", encoding="utf-8")


STAFF_DE = {"urlaub": "Urlaub beantragen Sie schriftlich bei Ihrer Personalabteilung.",
            "lohn": "Der Lohn wird jeweils am Monatsende auf Ihr Konto überwiesen."}


@pytest.fixture
def mixed_index(tmp_path):
    src = tmp_path / "src"
    _write(src, "cancel-en", "en", "You can cancel your contract at any time by writing to us.\n\n"
           "Delivery takes three working days within the country.")
    _write(src, "cancel-de", "de", "Sie können Ihren Vertrag jederzeit schriftlich kündigen.\n\n"
           "Die Lieferung dauert drei Werktage innerhalb des Landes.")
    _write(src, "cancel-zh", "zh", "您可以随时以书面形式取消合同。\n\n国内送货需要三个工作日。")
    index_sources([src], tmp_path / "index")
    return Index.load(tmp_path / "index")


def test_mixed_index_records_its_languages(mixed_index):
    assert set(mixed_index.languages) == {"english", "german", "zh"}


@pytest.mark.parametrize("question, article", [
    ("Wie kann ich meinen Vertrag kündigen?", "cancel-de"),
    ("How can I cancel my contract?", "cancel-en"),
    ("如何取消合同？", "cancel-zh"),
    ("Wie lange dauert die Lieferung?", "cancel-de"),
])
def test_question_gets_a_passage_in_its_own_language(mixed_index, question, article):
    response = ask(mixed_index, question)
    assert response["results"][0]["id"].startswith(article)


def test_a_question_gets_the_passage_in_its_own_language_first(tmp_path):
    src = tmp_path / "src"
    # Names are the same tokens in both analyses; the shorter English passage scores higher on them.
    _write(src, "route-en", "en", "Yosemite Freeway: Route 41, Fresno.")
    _write(src, "route-de", "de", "Der Yosemite Freeway, auch Route 41 genannt, ist eine vierspurige Schnellstraße, "
           "die von Süden kommend mitten durch Fresno führt und danach weiter in die Berge.")
    _write(src, "parks-en", "en", "Fresno has many parks, and the largest is Woodward Park.")
    _write(src, "parks-de", "de", "In Fresno gibt es viele Parks, der größte ist der Woodward Park.")
    for name, body in STAFF_DE.items():  # enough passages for BM25's idf to tell words apart
        _write(src, f"{name}-de", "de", body)
    _write(src, "leave-en", "en", "Apply for leave in writing to your personnel department.")
    _write(src, "pay-en", "en", "Wages are paid into your account at the end of each month.")
    index_sources([src], tmp_path / "index")
    index = Index.load(tmp_path / "index")
    assert [index.language_keys[c] for c in index.passage_languages] == [
        {"en": "english", "de": "german"}[index.passage(i).article[-2:]] for i in range(index.n_passages)]
    german = ask(index, "Yosemite Freeway in Fresno?", lang="de")["results"]
    ids = [r["id"] for r in german if r["score"] > 0]
    assert ids[0].startswith("route-de") and "route-en#0" in ids  # the English one after the German ones
    english = ask(index, "What is another name for Yosemite Freeway?", lang="en")["results"]
    assert english[0]["id"].startswith("route-en")
    # Nothing in the question's own language matches: the other language's passage is still the answer.
    (src / "route-de.md").unlink()
    index_sources([src], tmp_path / "index")
    assert ask(Index.load(tmp_path / "index"), "Yosemite Freeway", lang="de")["results"][0]["id"].startswith("route-en")


def test_given_lang_decides_the_analysis(mixed_index):
    # "Vertrag kündigen" analysed as German matches the German passage's stems.
    german = ask(mixed_index, "Vertrag kündigen", lang="de")
    assert german["results"][0]["id"].startswith("cancel-de")
    with pytest.raises(Exception, match="BCP 47"):
        ask(mixed_index, "Vertrag", lang="not a tag!")


def test_api_takes_lang_and_returns_language_and_matched_terms(client):
    data = client.post("/api/ask", json={"question": "how long does a refund take?", "lang": "en-GB"}).get_json()
    assert data["lang"] == "en"
    assert "refund" in data["terms"]  # words of the matched passages, for the widget to highlight
    bad = client.post("/api/ask", json={"question": "refund", "lang": "<script>"})
    assert bad.status_code == 400 and "BCP 47" in bad.get_json()["error"]
    assert client.post("/api/ask", json={"question": "refund", "lang": 7}).status_code == 400


def test_cli_ask_and_chat_take_lang(runner, tmp_path):
    import json

    from faqbot.chat import ChatSession
    from faqbot.cli import cli

    src = tmp_path / "src"
    _write(src, "vertrag", "de", "## Häufig gestellte Fragen\n\n### Wie kündige ich meinen Vertrag?\n\n"
           "Sie können Ihren Vertrag jederzeit schriftlich kündigen.")
    _write(src, "delivery", "en", "Delivery takes three working days within the country, by post.")
    assert runner.invoke(cli, ["index", str(src), "--index", str(tmp_path / "ix")]).exit_code == 0
    result = runner.invoke(cli, ["ask", "Verträge kündigen", "--lang", "de", "--json", "--index", str(tmp_path / "ix")])
    data = json.loads(result.output)
    assert data["lang"] == "de" and data["answer"]["id"].startswith("vertrag")
    assert "kündigen" in data["terms"]
    result = runner.invoke(cli, ["ask", "Verträge", "--lang", "?", "--index", str(tmp_path / "ix")])
    assert result.exit_code != 0 and "BCP 47" in result.output
    out = []
    session = ChatSession(Index.load(tmp_path / "ix"), __import__("faqbot.search.answer").search.answer.AnswerSettings(),
                          write=out.append, lang="de")
    session.ask("Verträge kündigen")
    assert session.last["lang"] == "de" and session.last["answer"]["id"].startswith("vertrag")


def test_inspect_shows_how_the_language_was_decided(runner, tmp_path):
    import json

    from faqbot.cli import cli

    (tmp_path / "declared.html").write_text('<html lang="fr-CA"><body><h1>Bonjour</h1><p>Texte.</p></body></html>')
    (tmp_path / "og.html").write_text('<html><head><meta property="og:locale" content="pt_BR"></head>'
                                      '<body><h1>Olá</h1><p>Texto.</p></body></html>')
    (tmp_path / "plain.md").write_text("# Über uns\n\nWir sind ein kleines Unternehmen aus Berlin und verkaufen "
                                       "seit vielen Jahren Fahrräder, Ersatzteile und Zubehör für die ganze Familie.\n")
    result = runner.invoke(cli, ["inspect", str(tmp_path), "--json"])
    langs = {a["title"]: (a["lang"], a["lang_source"]) for a in json.loads(result.output)}
    assert langs == {"Bonjour": ("fr", "declared"), "Olá": ("pt", "declared"), "Über uns": ("de", "detected")}
    assert "(detected)" in runner.invoke(cli, ["inspect", str(tmp_path / "plain.md")]).output


def test_lang_setting_is_the_language_of_articles_that_declare_none_and_are_not_detected(runner, tmp_path, monkeypatch):
    import json

    from faqbot.cli import cli

    src = tmp_path / "src"
    src.mkdir()
    # Too short for the detector: without the setting it would be English (no stemming of "Verträge").
    (src / "short.md").write_text("# Verträge\n\nVerträge kündigen.\n")
    (src / "declared.md").write_text("---\nlang: en\n---\n# Refunds\n\nRefunds take five days.\n")
    monkeypatch.setenv("FAQBOT_LANG", "de")
    result = runner.invoke(cli, ["inspect", str(src), "--json"])
    langs = {a["title"]: (a["lang"], a["lang_source"]) for a in json.loads(result.output)}
    assert langs == {"Verträge": ("de", "default"), "Refunds": ("en", "declared")}
    assert "lang: fr (default)" in runner.invoke(cli, ["inspect", str(src / "short.md"), "--lang", "fr"]).output
    assert runner.invoke(cli, ["index", str(src), "--index", str(tmp_path / "ix")]).exit_code == 0
    index = Index.load(tmp_path / "ix")
    assert set(index.languages) == {"german", "english"}
    assert sorted(index.language_keys[c] for c in index.passage_languages) == ["english", "german"]
    # German stems on both sides: "Vertrag" finds "Verträge" only when the passage was stemmed as German.
    assert ask(index, "Vertrag", lang="de")["results"][0]["id"].startswith("short")
    monkeypatch.setenv("FAQBOT_LANG", "no tag!")
    result = runner.invoke(cli, ["inspect", str(src)])
    assert result.exit_code == 1 and "'lang'" in result.output and "BCP 47" in result.output


def _german_index(folder, articles: dict):
    for name, body in {**articles, **STAFF_DE}.items():
        _write(folder / "src", name, "de", body)
    index_sources([folder / "src"], folder / "index")
    return Index.load(folder / "index")


@pytest.fixture
def german_index(tmp_path):
    """Five German passages, some with compound words."""
    return _german_index(tmp_path, {
        "risiko": "Das Infektionsrisiko am Arbeitsplatz ist gering, wenn alle Abstand halten.",
        "virus": "Das Coronavirus wird vor allem durch Tröpfchen übertragen.",
        "bus": "Masken senken im Bus die Gefahr einer Ansteckung deutlich."})


@pytest.mark.parametrize("question, article", [
    ("Was ist Corona?", "virus"),  # a compound's first part: "corona" -> "coronavirus"
    ("Wie hoch ist das Risiko einer Infektion?", "risiko"),  # both parts, as words of their own
    ("Wie vermeide ich Ansteckungsgefahr?", "bus"),  # a compound split into indexed words: ansteckung + gefahr
])
def test_german_compounds_meet_their_parts(german_index, question, article):
    from faqbot.search.lexical import parse_query, term_weights

    assert ask(german_index, question)["results"][0]["id"].startswith(article)
    query = parse_query(german_index, question, "de")
    assert len(term_weights(german_index, query)) > len(query.known)  # found through compound parts


def test_english_terms_are_not_widened(index_dir):
    from faqbot.search.lexical import parse_query, term_weights

    index = Index.load(index_dir)
    query = parse_query(index, "refundable refunds")
    assert term_weights(index, query) is query.known


def test_a_greeting_matching_one_german_word_is_refused(tmp_path):
    index = _german_index(tmp_path, {
        "abend": "Am Abend schließen wir um acht Uhr, samstags schon um sechs.",
        "team": "Unser Team arbeitet seit zehn Jahren zusammen an neuen Fahrrädern."})
    greeting = ask(index, "Guten Abend zusammen")
    assert greeting["results"][0]["score"] > 0 and greeting["answer"] is None
    answered = ask(index, "Wann wird der Lohn überwiesen?")
    assert answered["answer"]["id"].startswith("lohn")


def test_an_index_of_the_previous_analyzer_is_refused_with_a_rebuild_sentence(index_dir):
    import json

    from faqbot.errors import IndexInvalid

    path = index_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    assert manifest["analyzer"] == "3" and manifest["languages"] == {"english": manifest["counts"]["passages"]}
    manifest["analyzer"] = "2"  # before Arabic words were stemmed as written
    path.write_text(json.dumps(manifest))
    with pytest.raises(IndexInvalid, match=r"analyzer 2; this faqbot reads .* analyzer 3\. Rebuild with `faqbot index --full`"):
        Index.load(index_dir)


def test_a_crawled_page_without_a_declared_language_is_detected_else_gets_the_default():
    from faqbot.index.incremental import read_page

    german = ("<html><body><h1>Über uns</h1><p>Wir sind ein kleines Unternehmen aus Berlin und verkaufen seit "
              "vielen Jahren Fahrräder, Ersatzteile und Zubehör für die ganze Familie.</p></body></html>").encode()
    page = read_page(german, "https://example.com/ueber-uns", "ueber-uns")
    assert (page.lang, page.lang_source) == ("de", "detected")
    short = b"<html><body><h1>Kontakt</h1><p>Ruf an.</p></body></html>"
    assert (read_page(short, "https://example.com/k", "k").lang_source) == "default"
    page = read_page(short, "https://example.com/k", "k", default_lang="de")
    assert (page.lang, page.lang_source) == ("de", "default")
    declared = b'<html lang="fr"><body><p>Bonjour.</p></body></html>'
    assert read_page(declared, "https://example.com/b", "b", "de").lang_source == "declared"
