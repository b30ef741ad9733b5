"""Q objects and the legacy expression language."""
import pytest

from exchangelib.restriction import ExpressionError, Q, Restriction, parse_expression


def test_q_leaf_and_combination():
    q = (Q(subject__iexact="foo") | Q(subject__contains="bar")) & ~Q(subject__startswith="baz")
    assert repr(q) == ("AND(OR(Q(subject__iexact='foo'), Q(subject__contains='bar')), "
                       "~Q(subject__startswith='baz'))")
    assert ~~Q(subject="x") == Q(subject="x")
    assert Q() & Q(subject="x") == Q(subject="x")


def test_q_validates_lookup_values():
    with pytest.raises(ValueError, match="range"):
        Q(start__range=(1,))
    with pytest.raises(ValueError, match="'in'"):
        Q(subject__in="abc")
    with pytest.raises(ValueError, match="exists"):
        Q(categories__exists="yes")


def test_expression_parses_to_the_same_q_as_keywords():
    expr = "start < '2016-01-02T03:04:05Z' and end > '2016-01-01T03:04:05Z' and categories in ('foo', 'bar')"
    q = parse_expression(expr)
    expected = (Q(start__lt="2016-01-02T03:04:05Z") & Q(end__gt="2016-01-01T03:04:05Z")) & Q(
        categories__in=["foo", "bar"])
    assert q == expected


def test_expression_operators_precedence_and_escapes():
    q = parse_expression(r"subject == 'f\'oo' or not subject startswith 'bar' and size >= 10")
    assert q == Q(subject="f'oo") | (~Q(subject__startswith="bar") & Q(size__gte=10))
    assert parse_expression("x not in (1, 2)") == ~Q(x__in=[1, 2])
    assert parse_expression("(a == True)") == Q(a=True)
    assert parse_expression("categories exists") == Q(categories__exists=True)


@pytest.mark.parametrize("expr, pos", [
    ("subject == 'foo' and and", 21),
    ("subject === 'x'", 10),
    ("subject == foo", 11),
    ("(subject == 'x'", 15),
    ("subject == 'x' $", 15),
    ("x in 1", 5),
])
def test_malformed_expression_names_the_position(expr, pos):
    with pytest.raises(ExpressionError) as e:
        parse_expression(expr)
    assert e.value.position == pos
    assert f"position {pos}" in str(e.value)


def test_expression_never_evaluates_code():
    with pytest.raises(ExpressionError):
        parse_expression("__import__('os').system('echo hi') == 1")


def test_restriction_wraps_q_or_string():
    assert Restriction("a == 1").q == Q(a=1)
    with pytest.raises(TypeError):
        Restriction(42)
