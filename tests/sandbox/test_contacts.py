"""Contract: the sandbox's Contacts endpoints behave as notes/xero-api.md §1.1 describes."""

from __future__ import annotations

from tests.sandbox.conftest import Api, data


def test_contact_is_found_by_email_case_insensitively(api: Api) -> None:
    """§1.1: `where=EmailAddress=="..."` finds contacts; the where-filter ignores case."""
    created = api.contact("Jane Citizen", EmailAddress="jane@example.com")
    api.contact("Someone Else", EmailAddress="else@example.com")

    found = data(api.get("/Contacts", params={"where": 'EmailAddress=="JANE@Example.com"'}))

    assert [c["ContactID"] for c in found["Contacts"]] == [created["ContactID"]]


def test_where_combines_comparisons_with_or_and_parentheses(api: Api) -> None:
    """§1.1: `IN (...)` is not supported, so several addresses are matched with OR."""
    a = api.contact("A Person", EmailAddress="a@example.com")
    b = api.contact("B Person", EmailAddress="b@example.com", ContactNumber="OS-B")
    api.contact("C Person", EmailAddress="c@example.com")

    where = '(EmailAddress=="a@example.com" OR EmailAddress=="b@example.com") AND Status=="ACTIVE"'
    found = data(api.get("/Contacts", params={"where": where}))
    by_number = data(api.get("/Contacts", params={"where": 'ContactNumber=="os-b"'}))
    by_name = data(api.get("/Contacts", params={"where": 'Name=="c person"'}))

    assert {c["ContactID"] for c in found["Contacts"]} == {a["ContactID"], b["ContactID"]}
    assert [c["ContactID"] for c in by_number["Contacts"]] == [b["ContactID"]]
    assert [c["Name"] for c in by_name["Contacts"]] == ["C Person"]


def test_several_contacts_may_share_an_email(api: Api) -> None:
    """§1.1: Xero does not enforce unique emails, so one email can match several contacts."""
    api.contact("Jane Citizen", EmailAddress="shared@example.com")
    api.contact("John Citizen", EmailAddress="shared@example.com")

    found = data(api.get("/Contacts", params={"where": 'EmailAddress=="shared@example.com"'}))

    assert sorted(c["Name"] for c in found["Contacts"]) == ["Jane Citizen", "John Citizen"]


def test_contact_name_must_be_unique_among_active_contacts_ignoring_case(api: Api) -> None:
    """§1.1: PUT fails on a name an active contact has, compared case-insensitively."""
    api.contact("Jane Citizen")

    response = api.put(
        "/Contacts",
        params={"summarizeErrors": "false"},
        json={"Contacts": [{"Name": "JANE citizen"}]},
    )

    element = data(response)["Contacts"][0]
    assert element["HasErrors"] is True
    assert element["ValidationErrors"] == [
        {
            "Message": "The contact name JANE citizen is already assigned to another contact. "
            "The contact name must be unique across all active contacts."
        }
    ]


def test_archiving_a_contact_hides_it_and_frees_its_name(api: Api) -> None:
    """§1.1: archived contacts are excluded unless `includeArchived=true`; names are unique
    only among active contacts; POST /Contacts/{id} updates (archives) a contact."""
    jane = api.contact("Jane Citizen", EmailAddress="jane@example.com")

    archived = api.post(
        f"/Contacts/{jane['ContactID']}",
        json={"Contacts": [{"ContactID": jane["ContactID"], "ContactStatus": "ARCHIVED"}]},
    )
    visible = data(api.get("/Contacts", params={"where": 'EmailAddress=="jane@example.com"'}))
    everything = data(
        api.get(
            "/Contacts",
            params={"where": 'EmailAddress=="jane@example.com"', "includeArchived": "true"},
        )
    )
    again = api.contact("Jane Citizen")

    assert data(archived)["Contacts"][0]["ContactStatus"] == "ARCHIVED"
    assert visible["Contacts"] == []
    assert [c["ContactID"] for c in everything["Contacts"]] == [jane["ContactID"]]
    assert again["ContactID"] != jane["ContactID"]


def test_contact_number_is_unique_and_fetches_the_contact(api: Api) -> None:
    """§1.1: ContactNumber is the intended external key, fetchable with
    `GET /Contacts/{ContactNumber}`; a second contact cannot take the same number."""
    jane = api.contact("Jane Citizen", ContactNumber="OS-CUST-123")

    by_number = data(api.get("/Contacts/OS-CUST-123"))
    by_id = data(api.get(f"/Contacts/{jane['ContactID']}"))
    duplicate = api.put(
        "/Contacts",
        params={"summarizeErrors": "false"},
        json={"Contacts": [{"Name": "Other", "ContactNumber": "OS-CUST-123"}]},
    )

    assert by_number["Contacts"][0]["ContactID"] == jane["ContactID"]
    assert by_id["Contacts"][0]["ContactNumber"] == "OS-CUST-123"
    assert data(duplicate)["Contacts"][0]["HasErrors"] is True


def test_contact_name_is_required(api: Api) -> None:
    """§1.1: `Name` is the only field Xero requires."""
    response = api.put(
        "/Contacts",
        params={"summarizeErrors": "false"},
        json={"Contacts": [{"EmailAddress": "nobody@example.com"}]},
    )

    element = data(response)["Contacts"][0]
    assert element["HasErrors"] is True
    assert element["ValidationErrors"]


def test_contacts_are_paged_by_100(api: Api) -> None:
    """§1.1: `page=1&pageSize=100`; up to 100 contacts per page (spec getContacts `page`)."""
    for batch in range(3):
        names = [{"Name": f"Customer {batch}-{i}"} for i in range(50 if batch < 2 else 5)]
        assert api.put("/Contacts", json={"Contacts": names}).status_code == 200

    first = data(api.get("/Contacts", params={"page": 1}))
    second = data(api.get("/Contacts", params={"page": 2}))

    assert len(first["Contacts"]) == 100
    assert len(second["Contacts"]) == 5
    assert first["pagination"]["itemCount"] == 105


def test_summary_only_returns_lightweight_contacts(api: Api) -> None:
    """§1.1: `summaryOnly=true` leaves out the heavier fields (Addresses, Balances ...)."""
    api.contact("Jane Citizen", Addresses=[{"AddressType": "STREET", "City": "Sydney"}])

    full = data(api.get("/Contacts"))["Contacts"][0]
    summary = data(api.get("/Contacts", params={"summaryOnly": "true"}))["Contacts"][0]

    assert "Addresses" in full and "Balances" in full
    assert "Addresses" not in summary and "Balances" not in summary
    assert summary["Name"] == "Jane Citizen"
