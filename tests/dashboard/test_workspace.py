"""dashboard.workspace: which workspace a browser's cookie opens."""

from dashboard.workspace import choose, new_token


def test_a_known_well_formed_token_opens_its_workspace():
    token = new_token()
    assert len(token) == 32 and choose(token, {token}.__contains__) == (token, True)


def test_anything_else_gets_a_fresh_workspace_never_the_one_it_names():
    known = new_token()
    asked = []

    def is_known(t):
        asked.append(t)
        return t == known

    for cookie in (None, "", "short", known + "x", known[:-1] + "!", "a" * 32,
                   "' OR 1=1 --" + "a" * 21):
        token, restored = choose(cookie, is_known)
        assert not restored and token not in (cookie, known) and len(token) == 32
    assert asked == ["a" * 32]  # only well-formed tokens are looked up
    assert len({choose(None, is_known)[0] for _ in range(100)}) == 100
