"""Chips and cores: the facts a board file is checked against.

A board names its part with ``chip:``; this table says what that part is
(core, FPU, DSP, Helium, maximum clock), where its memories are, which
console UARTs it has at which base address, and, for the emulated parts,
which QEMU machine models it and at what fixed clock. Figures come from
the parts' datasheets and reference manuals (STM32L4: RM0351, STM32L4+:
RM0432, STM32H7A3/B3: RM0455, STM32U575/585: RM0456) and, for the Arm
MPS2/MPS3 FPGA images, from the machines QEMU 10 builds (measured: see
firmware/platform/README.md).

Adding a part of a known family means adding one ``Chip`` here; a part of
a new family needs platform code too (firmware/platform/<family>/), or a
vendor's own platform code named from the board file (``family: external``).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

CORES = ("cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55")

# FPUs each core can have, in the order a smaller one is a subset of a
# larger one (a board may use less FPU than its chip has, never more).
CORE_FPUS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "cortex-m4": ("none", "fpv4-sp-d16"),
    "cortex-m7": ("none", "fpv5-sp-d16", "fpv5-d16"),
    "cortex-m33": ("none", "fpv5-sp-d16"),
    "cortex-m55": ("none", "fpv5-d16"),
})
# The DSP extension: always there on M4, M7 and M55 (MVE needs it),
# optional on M33 (the chip says).
CORE_DSP_FIXED: Mapping[str, bool] = MappingProxyType({
    "cortex-m4": True, "cortex-m7": True, "cortex-m55": True,
})
# Helium (M-profile vector extension): only the M55 of these.
CORE_HAS_MVE = ("cortex-m55",)


@dataclass(frozen=True)
class Uart:
    instance: str
    base: int
    driver: str
    # Family-specific facts the platform code needs (interrupt number,
    # RCC enable register offset and bit, kernel-clock selector position).
    irq: int = 0
    enr: int = 0
    bit: int = 0
    sel: int = 0


@dataclass(frozen=True)
class Window:
    """Where a kind of memory may be: a region must lie inside one."""

    kind: str
    base: int
    size: int
    name: str

    def holds(self, base: int, size: int) -> bool:
        return self.base <= base and base + size <= self.base + self.size


@dataclass(frozen=True)
class Chip:
    name: str
    family: str
    cpu: str
    fpu: str                   # the largest FPU the part has
    dsp: bool
    max_hz: int
    windows: tuple[Window, ...]
    uarts: Mapping[str, Uart]
    mve: bool = False
    qemu_machine: str | None = None
    fixed_hz: int | None = None   # the clock is the machine's, not the firmware's
    pyocd_target: str | None = None


def _uarts(*items: Uart) -> Mapping[str, Uart]:
    return MappingProxyType({u.instance: u for u in items})


K = 1024
M = 1024 * 1024

# STM32L4 / L4+ (RM0351, RM0432): base, IRQ, RCC enable register and bit,
# CCIPR clock-select shift.
_STM32L4_UARTS = _uarts(
    Uart("USART1", 0x40013800, "stm32-usart", irq=37, enr=0x60, bit=14, sel=0),
    Uart("USART2", 0x40004400, "stm32-usart", irq=38, enr=0x58, bit=17, sel=2),
    Uart("USART3", 0x40004800, "stm32-usart", irq=39, enr=0x58, bit=18, sel=4),
    Uart("UART4", 0x40004C00, "stm32-usart", irq=52, enr=0x58, bit=19, sel=6),
    Uart("UART5", 0x40005000, "stm32-usart", irq=53, enr=0x58, bit=20, sel=8),
    Uart("LPUART1", 0x40008000, "stm32-lpuart", irq=70, enr=0x5C, bit=0, sel=10),
)

# STM32H7A3/B3 (RM0455): APB1L U(S)ARTs, APB2 USART1/6, LPUART1 in SRD.
# enr is the RCC enable register offset, sel the shift of the kernel-clock
# selector in RCC_CDCCIP2R (USART2..8: bits 2:0, USART1/6: bits 5:3).
_STM32H7_UARTS = _uarts(
    Uart("USART1", 0x40011000, "stm32-usart", irq=37, enr=0x0F0, bit=4, sel=3),
    Uart("USART2", 0x40004400, "stm32-usart", irq=38, enr=0x0E8, bit=17, sel=0),
    Uart("USART3", 0x40004800, "stm32-usart", irq=39, enr=0x0E8, bit=18, sel=0),
    Uart("UART4", 0x40004C00, "stm32-usart", irq=52, enr=0x0E8, bit=19, sel=0),
    Uart("UART5", 0x40005000, "stm32-usart", irq=53, enr=0x0E8, bit=20, sel=0),
    Uart("USART6", 0x40011400, "stm32-usart", irq=71, enr=0x0F0, bit=5, sel=3),
    Uart("UART7", 0x40007800, "stm32-usart", irq=82, enr=0x0E8, bit=30, sel=0),
    Uart("UART8", 0x40007C00, "stm32-usart", irq=83, enr=0x0E8, bit=31, sel=0),
)

# STM32U575/585 (RM0456), non-secure aliases (the firmware runs with
# TrustZone disabled, TZEN = 0, where the non-secure addresses apply).
# enr: RCC enable register offset; sel: RCC_CCIPR1 clock-select shift.
_STM32U5_UARTS = _uarts(
    Uart("USART1", 0x40013800, "stm32-usart", irq=61, enr=0x0A4, bit=14, sel=0),
    Uart("USART2", 0x40004400, "stm32-usart", irq=62, enr=0x09C, bit=17, sel=2),
    Uart("USART3", 0x40004800, "stm32-usart", irq=63, enr=0x09C, bit=18, sel=4),
    Uart("UART4", 0x40004C00, "stm32-usart", irq=64, enr=0x09C, bit=19, sel=6),
    Uart("UART5", 0x40005000, "stm32-usart", irq=65, enr=0x09C, bit=20, sel=8),
)

# Arm CMSDK APB UARTs of the MPS2 images AN385/AN386/AN500.
_MPS2_UARTS = _uarts(
    Uart("UART0", 0x40004000, "cmsdk-uart"),
    Uart("UART1", 0x40005000, "cmsdk-uart"),
    Uart("UART2", 0x40006000, "cmsdk-uart"),
)
# AN505 (IoT Kit): the guest boots in Secure state; UARTs at their
# secure aliases (0x5xxxxxxx).
_AN505_UARTS = _uarts(
    Uart("UART0", 0x50200000, "cmsdk-uart"),
    Uart("UART1", 0x50201000, "cmsdk-uart"),
    Uart("UART2", 0x50202000, "cmsdk-uart"),
)
# AN547 (SSE-300): secure aliases.
_AN547_UARTS = _uarts(
    Uart("UART0", 0x59303000, "cmsdk-uart"),
    Uart("UART1", 0x59304000, "cmsdk-uart"),
    Uart("UART2", 0x59305000, "cmsdk-uart"),
)


def _stm32l4(name: str, flash: int, sram1: int, sram2: int, max_hz: int, *,
             contiguous: int | None = None, qemu: str | None = None,
             pyocd: str | None = None) -> Chip:
    """An STM32L4/L4+ part: SRAM2 at 0x10000000 and, on the chip, also
    aliased right after SRAM1 (contiguous RAM of ``contiguous`` bytes)."""
    windows = (
        Window("flash", 0x08000000, flash, "FLASH"),
        Window("ram", 0x20000000, contiguous or sram1 + sram2, "SRAM"),
        Window("ram", 0x10000000, sram2, "SRAM2"),
    )
    return Chip(name, "stm32l4", "cortex-m4", "fpv4-sp-d16", True, max_hz, windows,
                _STM32L4_UARTS, qemu_machine=qemu, pyocd_target=pyocd)


def _mps(name: str, cpu: str, fpu: str, hz: int, windows: tuple[Window, ...],
         uarts: Mapping[str, Uart], *, mve: bool = False, dsp: bool = True) -> Chip:
    return Chip(name, "mps2", cpu, fpu, dsp, hz, windows, uarts, mve=mve,
                qemu_machine=name, fixed_hz=hz)


CHIPS: Mapping[str, Chip] = MappingProxyType({c.name: c for c in (
    _stm32l4("stm32l475vg", 1 * M, 96 * K, 32 * K, 80_000_000,
             qemu="b-l475e-iot01a", pyocd="stm32l475xg"),
    _stm32l4("stm32l476rg", 1 * M, 96 * K, 32 * K, 80_000_000, pyocd="stm32l476rgtx"),
    _stm32l4("stm32l476zg", 1 * M, 96 * K, 32 * K, 80_000_000, pyocd="stm32l476zgtx"),
    _stm32l4("stm32l496zg", 1 * M, 256 * K, 64 * K, 80_000_000, pyocd="stm32l496zgtx"),
    _stm32l4("stm32l4r5zi", 2 * M, 192 * K, 64 * K, 120_000_000, contiguous=640 * K,
             pyocd="stm32l4r5zitx"),
    # STM32H7A3ZI (RM0455, DS13195): Cortex-M7 with double-precision FPU,
    # 280 MHz, 2 MB flash, 1 MB of system SRAM (AXI SRAM 1 MB at
    # 0x24000000 incl. its shared banks), DTCM 128 KB at 0x20000000.
    Chip("stm32h7a3zi", "stm32h7", "cortex-m7", "fpv5-d16", True, 280_000_000, (
        Window("flash", 0x08000000, 2 * M, "FLASH"),
        Window("ram", 0x20000000, 128 * K, "DTCM"),
        Window("ram", 0x24000000, 1024 * K, "AXI SRAM"),
        Window("ram", 0x30000000, 128 * K, "AHB SRAM"),
    ), _STM32H7_UARTS, pyocd_target="stm32h7a3zitxq"),
    # STM32U575ZI (RM0456, DS13737): Cortex-M33 with FPU and DSP, 160 MHz,
    # 2 MB flash, SRAM1+2+3 768 KB contiguous at 0x20000000 (SRAM4 16 KB
    # at 0x28000000).
    Chip("stm32u575zi", "stm32u5", "cortex-m33", "fpv5-sp-d16", True, 160_000_000, (
        Window("flash", 0x08000000, 2 * M, "FLASH"),
        Window("ram", 0x20000000, 768 * K, "SRAM1-3"),
        Window("ram", 0x28000000, 16 * K, "SRAM4"),
    ), _STM32U5_UARTS, pyocd_target="stm32u575zitxq"),
    # QEMU's MPS2/MPS3 machines. The clock is the machine's: QEMU gives the
    # CPU (and SysTick with CLKSOURCE = processor) a fixed rate.
    _mps("mps2-an386", "cortex-m4", "fpv4-sp-d16", 25_000_000, (
        Window("flash", 0x00000000, 4 * M, "SSRAM1"),
        Window("ram", 0x20000000, 4 * M, "SSRAM2/3"),
    ), _MPS2_UARTS),
    _mps("mps2-an500", "cortex-m7", "fpv5-d16", 25_000_000, (
        Window("flash", 0x00000000, 4 * M, "SSRAM1"),
        Window("ram", 0x20000000, 4 * M, "SSRAM2/3"),
    ), _MPS2_UARTS),
    # AN505: ZBT SSRAM1 (code) at its secure alias 0x10000000, SSRAM2/3
    # (data) at 0x38000000; the guest starts Secure, VTOR_S = 0x10000000.
    _mps("mps2-an505", "cortex-m33", "fpv5-sp-d16", 20_000_000, (
        Window("flash", 0x10000000, 4 * M, "SSRAM1 (secure)"),
        Window("ram", 0x38000000, 4 * M, "SSRAM2/3 (secure)"),
    ), _AN505_UARTS),
    # AN547: ITCM 512 KB at 0x00000000 (VTOR_S resets to 0 here) and its
    # secure alias 0x10000000, SRAM 2 MB at 0x11000000 (secure) for code; DTCM 512 KB at 0x30000000, ISRAM 4 MB at
    # 0x31000000 (secure aliases) for data.
    _mps("mps3-an547", "cortex-m55", "fpv5-d16", 32_000_000, (
        Window("flash", 0x00000000, 512 * K, "ITCM"),
        Window("flash", 0x10000000, 512 * K, "ITCM (secure)"),
        Window("flash", 0x11000000, 2 * M, "SRAM (secure)"),
        Window("ram", 0x30000000, 512 * K, "DTCM (secure)"),
        Window("ram", 0x31000000, 4 * M, "ISRAM0/1 (secure)"),
    ), _AN547_UARTS, mve=True),
)})


def family_chips(family: str) -> list[str]:
    return sorted(n for n, c in CHIPS.items() if c.family == family)


def fpu_allowed(chip_fpu: str, core: str) -> tuple[str, ...]:
    """The FPU settings a board of this chip may use: its own or less."""
    order = CORE_FPUS[core]
    return order[: order.index(chip_fpu) + 1]
