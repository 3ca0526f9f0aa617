"""The error summary every macro-built form gets, and the "Error: " in the page's title."""

from core.errorsummary import field_errors, has_error_summary

from .helpers import page


def test_field_errors_are_read_back_from_the_macros_markup():
    body = (
        '<label for="plate">Plate &amp; number</label>'
        '<p class="field-error" id="plate-error">Enter a <em>plate</em>.</p>'
        '<p class="field-error" id="zones-error">Choose a zone.</p>'
        '<legend id="roles-legend">Roles</legend>'
        '<p class="field-error" id="roles-error">This field is required.</p>'
    )
    assert field_errors(body) == [
        ("plate", "Plate & number", "Enter a plate."),
        ("zones", "", "Choose a zone."),
        ("roles", "Roles", "This field is required."),  # a group of tick boxes: its legend
    ]
    assert field_errors("<p>nothing wrong</p>") == []
    assert has_error_summary('<div class="error-summary" role="alert">')


def test_a_form_with_errors_leads_with_a_summary_linking_to_its_fields(client):
    soup = page(client.post("/register", data={"real_name": "王小明"}), status=422)
    summary = soup.select_one("#register-form > .error-summary")
    assert summary["role"] == "alert"
    links = [a["href"] for a in summary.find_all("a")]
    assert links[0] == "#resident_id" and "#password" in links
    assert all(soup.select_one(href)["aria-invalid"] == "true" for href in links)
    assert soup.title.get_text().startswith("错误：")


def test_a_page_without_errors_has_neither(client):
    soup = page(client.get("/register"))
    assert not soup.select(".error-summary")
    assert not soup.title.get_text().startswith("错误")
    # The English prefix too.
    english = page(client.post("/register?hl=en", data={}, headers={"Accept-Language": "en"}), 422)
    assert english.title.get_text().startswith("Error: ")


def test_a_group_of_tick_boxes_is_named_in_the_summary(client, make, login):
    """An administrator adding an account with no role ticked: the summary names the roles."""
    login(make.staff("admin"))
    soup = page(client.post("/staff/accounts", data={"username": "newclerk"}), status=422)
    items = [li.get_text() for li in soup.select(".error-summary li")]
    assert "角色：此项必填。" in items
