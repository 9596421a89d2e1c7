"""helpers.device: the automatic choice, overrides, and a clear error for every device this machine cannot use."""

from __future__ import annotations

import pytest
import torch

from helpers.device import get_device


@pytest.fixture
def machine(monkeypatch):
    """Pretend to be a machine with ``cuda`` CUDA devices and MPS or not; COURSE_DEVICE unset."""
    def pretend(cuda: int = 0, mps: bool = False):
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: cuda)
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    return pretend


def test_get_device_prefers_cuda_then_mps_then_cpu(machine):
    machine(cuda=0, mps=False)
    assert get_device() == torch.device("cpu")
    machine(cuda=0, mps=True)
    assert get_device() == torch.device("mps:0")
    machine(cuda=1, mps=True)
    assert get_device() == torch.device("cuda:0")  # indexed, as tensors on it report their device


def test_get_device_override_argument_and_env(machine, monkeypatch):
    machine(cuda=2)
    assert get_device("cpu") == torch.device("cpu")
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")
    assert get_device("cuda") == torch.device("cuda", 0)  # the argument wins over the environment
    assert get_device("cuda:1") == torch.device("cuda", 1)
    monkeypatch.setenv("COURSE_DEVICE", "cuda:1")
    assert get_device() == torch.device("cuda", 1)


def test_get_device_rejects_unavailable_accelerators(machine):
    machine(cuda=0, mps=False)
    with pytest.raises(RuntimeError, match="device 'cuda' was requested but CUDA is not available here; use 'cpu'"):
        get_device("cuda")
    with pytest.raises(RuntimeError, match="device 'mps' was requested but MPS is not available here; use 'cpu'"):
        get_device("mps")


def test_get_device_checks_the_cuda_index_against_the_device_count(machine):
    machine(cuda=2)
    assert get_device("cuda:1") == torch.device("cuda", 1)
    with pytest.raises(RuntimeError, match=r"device 'cuda:7': this machine has 2 CUDA device\(s\), cuda:0 to cuda:1"):
        get_device("cuda:7")


def test_get_device_accepts_only_mps_0(machine):
    machine(mps=True)
    assert get_device("mps:0") == torch.device("mps", 0)
    with pytest.raises(RuntimeError, match="device 'mps:1': a Mac has one MPS device, mps:0"):
        get_device("mps:1")


@pytest.mark.parametrize("name", ["xpu", "meta", "xla:0"])
def test_get_device_rejects_devices_torch_knows_but_the_course_does_not_run_on(machine, name):
    machine(cuda=1, mps=True)
    kind = name.split(":")[0]
    with pytest.raises(RuntimeError, match=f"device '{name}': the course runs on cpu, cuda or mps, not '{kind}'"):
        get_device(name)


def test_get_device_passes_on_torchs_list_for_an_unknown_name(machine):
    machine()
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda.* device string: gpu"):  # shown in notebook 10
        get_device("gpu")


@pytest.mark.parametrize("value, message", [
    ("gpu", r"COURSE_DEVICE='gpu' \(from the environment\): Expected one of cpu, cuda"),
    ("xpu", r"COURSE_DEVICE='xpu' \(from the environment\): the course runs on cpu, cuda or mps, not 'xpu'"),
    ("cuda", r"COURSE_DEVICE='cuda' \(from the environment\) was requested but CUDA is not available here"),
    ("cuda:7", r"COURSE_DEVICE='cuda:7' \(from the environment\) was requested but CUDA is not available here"),
])
def test_errors_from_course_device_name_the_variable_and_its_value(machine, monkeypatch, value, message):
    machine(cuda=0)
    monkeypatch.setenv("COURSE_DEVICE", value)
    with pytest.raises(RuntimeError, match=message) as e:
        get_device()
    assert str(e.value).endswith("; unset COURSE_DEVICE or correct it")


def test_course_device_index_is_checked_too(machine, monkeypatch):
    machine(cuda=1)
    monkeypatch.setenv("COURSE_DEVICE", "cuda:7")
    with pytest.raises(RuntimeError, match=r"COURSE_DEVICE='cuda:7' \(from the environment\): this machine has 1 CUDA"):
        get_device()
