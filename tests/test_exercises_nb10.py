"""Notebook 10's exercise 5 (the others are in test_exercises_nb09_11.py): a right answer written differently,
realistic mistakes with their messages, and ____ not attempted."""

from __future__ import annotations

import torch

from helpers.exercises import ____, nb10


def verdict(ex, *values) -> str:
    return ex._verdict(values, {})


def halving(try_step, bs):
    """A right answer, written recursively."""
    if bs < 1:
        raise MemoryError("nothing fits")
    try:
        try_step(bs)
    except torch.OutOfMemoryError:
        return halving(try_step, bs // 2)
    return bs


def test_a_right_answer_written_differently_is_correct():
    assert verdict(nb10.ex5, halving) == "Correct"


def test_the_placeholder_is_not_attempted():
    assert verdict(nb10.ex5, ____).startswith("Not attempted")
    assert verdict(nb10.ex5, lambda try_step, bs: ____).startswith("Not attempted")


def catch_everything(try_step, bs):
    while bs >= 1:
        try:
            try_step(bs)
            return bs
        except Exception:
            bs //= 2
    raise RuntimeError("nothing fits")


def returns_zero(try_step, bs):
    while bs >= 1:
        try:
            try_step(bs)
            return bs
        except torch.OutOfMemoryError:
            bs //= 2
    return bs


def halves_first(try_step, bs):
    while True:
        bs //= 2
        try:
            try_step(bs)
            return bs
        except torch.OutOfMemoryError:
            pass


def test_realistic_mistakes_are_named():
    assert verdict(nb10.ex5, catch_everything) == (
        "Incorrect: a ValueError (a bug, not a size problem) was caught and largest_batch returned 64: catch only "
        "torch.OutOfMemoryError, not RuntimeError or Exception")
    assert verdict(nb10.ex5, returns_zero) == (
        "Incorrect: when not even a batch of 1 fits (tried [8, 4, 2, 1]), largest_batch returned 0: raise an error of "
        "your own instead, after trying bs 1")
    assert verdict(nb10.ex5, halves_first) == (
        "Incorrect: with room for 100 images, starting at bs 512: you tried [256, 128, 64] and returned 64; halving "
        "should try [512, 256, 128, 64] and return 64")
    assert verdict(nb10.ex5, lambda try_step, bs: bs // 2 if bs > 1 else bs).startswith(
        "Incorrect: with room for 100 images, starting at bs 512: you tried [] and returned 256")


def test_raising_the_last_out_of_memory_error_again_is_also_right():
    def reraise(try_step, bs):
        while True:
            try:
                try_step(bs)
                return bs
            except torch.OutOfMemoryError:
                if bs == 1:
                    raise
                bs //= 2

    assert verdict(nb10.ex5, reraise) == "Correct"
