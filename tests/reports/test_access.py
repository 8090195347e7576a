"""The dashboards' routes for every role, in and out of scope, as the access matrix checks
every route (tests/test_access_matrix.py), run here on the reports blueprint alone."""

from __future__ import annotations

from tests.factories import ROLES, expected_answers, login, rule_url


def test_every_dashboard_route_for_every_role(app, access_world):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("reports.")]
    assert len(rules) >= 17
    failures = []
    for role_name in ROLES:
        client = app.test_client()
        if role_name != "anonymous":
            assert login(client, access_world["emails"][role_name]).status_code == 302
        for rule in rules:
            access = app.view_functions[rule.endpoint].access_rule
            assert access.action is not None, rule.rule
            wheres = ["in", "out"] if access.model else ["in"]
            for where in wheres:
                url = rule_url(rule, access, access_world["objects"], where)
                response = client.get(url)
                expected = expected_answers(role_name, access, "GET", rule, where)
                if response.status_code not in expected:
                    failures.append(f"{role_name} GET {url}: {response.status_code} {expected}")
                response.close()
            # Nothing here changes data: every route answers GET only, but the requests
            # for an evidence pack, which queue a job (no business data).
            if rule.endpoint in {"reports.evidence_collectivite", "reports.evidence_dossier"}:
                assert rule.methods == {"POST", "OPTIONS"}, rule.rule
            else:
                assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule.rule
    assert not failures, "\n".join(failures)
