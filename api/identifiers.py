"""Account and card numbers: random digits closed by a Luhn check digit."""

import secrets


def luhn_check_digit(digits: str) -> str:
    total = 0
    # Walking from the right of the payload, every first digit is doubled (the check digit goes after it).
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return len(number) >= 2 and number.isascii() and number.isdigit() and luhn_check_digit(number[:-1]) == number[-1]


def random_digits(count: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(count))


def new_account_number() -> str:
    payload = secrets.choice("123456789") + random_digits(10)
    return payload + luhn_check_digit(payload)


def is_valid_account_number(number: str) -> bool:
    return isinstance(number, str) and len(number) == 12 and luhn_valid(number)


def new_card_number(prefix: str) -> str:
    payload = prefix + random_digits(15 - len(prefix))
    return payload + luhn_check_digit(payload)
