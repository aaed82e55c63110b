/*
 * Real audio source for the STM32L4/L4+ family: SAI1 block A as an I2S
 * slave receiver, DMA1 channel 1 in circular mode over a ping-pong buffer.
 *
 * Wiring of the MLPerf Tiny sww reference (NUCLEO-L4R5ZI): the interface
 * board is the I2S master; SAI1_FS_A on PE4, SAI1_SCK_A on PE5, SAI1_SD_A on
 * PE6 (alternate function 13). Frames are 16-bit stereo (two 16-bit slots
 * in a 32-bit frame, I2S: frame sync low for the left slot, one bit before
 * the data, data sampled on the rising clock edge). The DMA fills two
 * halves of 512 stereo frames (32 ms each); tg_audio_take polls the
 * half-transfer and transfer-complete flags from the main loop (no
 * interrupt: the platform dispatches only the console's) and hands out the
 * left channel of the half that just filled. The main loop wakes at least
 * every millisecond (SysTick), so a half is taken within 1 ms of its
 * arrival and has 31 ms before the DMA writes it again.
 *
 * Register facts from RM0432 (STM32L4+) and RM0351 (STM32L4); the DMAMUX
 * request number is the L4+'s. NEVER RUN ON HARDWARE: compiled and
 * size-checked only (tests/stream), see the README's real-bench steps.
 */
#include <stdint.h>
#include <string.h>

#include "tg_board.h"
#include "tg_cortexm.h"
#include "tg_platform.h"
#include "tg_stm32_gpio.h"

#define RCC_BASE 0x40021000u
#define RCC_AHB1ENR TG_REG32(RCC_BASE + 0x48u)
#define RCC_APB2ENR TG_REG32(RCC_BASE + 0x60u)
#define RCC_CCIPR2 TG_REG32(RCC_BASE + 0x9Cu)
#define RCC_AHB1ENR_DMA1EN (1u << 0)
#define RCC_AHB1ENR_DMAMUX1EN (1u << 2)
#define RCC_APB2ENR_SAI1EN (1u << 21)
#define RCC_CCIPR2_SAI1SEL_SHIFT 5u
#define RCC_CCIPR2_SAI1SEL_HSI16 4u   /* any running kernel clock will do in slave mode */

#define SAI1_A 0x40015404u            /* SAI1 base 0x40015400, block A at +0x04 */
#define SAI_CR1 TG_REG32(SAI1_A + 0x00u)
#define SAI_CR2 TG_REG32(SAI1_A + 0x04u)
#define SAI_FRCR TG_REG32(SAI1_A + 0x08u)
#define SAI_SLOTR TG_REG32(SAI1_A + 0x0Cu)
#define SAI_CLRFR TG_REG32(SAI1_A + 0x18u)
#define SAI_DR_ADDR (SAI1_A + 0x1Cu)
#define SAI_CR1_MODE_SLAVE_RX (3u << 0)
#define SAI_CR1_DS_16 (4u << 5)
#define SAI_CR1_CKSTR (1u << 9)       /* receive on the rising edge (I2S) */
#define SAI_CR1_SAIEN (1u << 16)
#define SAI_CR1_DMAEN (1u << 17)
#define SAI_CR2_FFLUSH (1u << 3)
#define SAI_FRCR_I2S_16x2 ((31u << 0) | (15u << 8) | (1u << 16) | (1u << 18))  /* FRL, FSALL, FSDEF, FSOFF */
#define SAI_SLOTR_2x16 ((1u << 8) | (0x3u << 16))                             /* NBSLOT 2, SLOTEN 0,1 */

#define DMA1_BASE 0x40020000u
#define DMA_ISR TG_REG32(DMA1_BASE + 0x00u)
#define DMA_IFCR TG_REG32(DMA1_BASE + 0x04u)
#define DMA_CCR1 TG_REG32(DMA1_BASE + 0x08u)
#define DMA_CNDTR1 TG_REG32(DMA1_BASE + 0x0Cu)
#define DMA_CPAR1 TG_REG32(DMA1_BASE + 0x10u)
#define DMA_CMAR1 TG_REG32(DMA1_BASE + 0x14u)
#define DMA_ISR_TCIF1 (1u << 1)
#define DMA_ISR_HTIF1 (1u << 2)
#define DMA_IFCR_ALL1 (0xFu << 0)
#define DMA_CCR_EN (1u << 0)
#define DMA_CCR_CIRC (1u << 5)
#define DMA_CCR_MINC (1u << 7)
#define DMA_CCR_PSIZE_16 (1u << 8)
#define DMA_CCR_MSIZE_16 (1u << 10)
#define DMA_CCR_PL_HIGH (2u << 12)
#define DMAMUX1_C0CR TG_REG32(0x40020800u)   /* DMAMUX channel 0 drives DMA1 channel 1 */
#define DMAMUX_REQ_SAI1_A 36u

#define FRAMES_PER_HALF TG_AUDIO_CHUNK
#define GPIO_PORT_E 4u
#define SAI1_AF 13u

static volatile int16_t tg_dma_buffer[2u * FRAMES_PER_HALF * 2u];   /* 2 halves x stereo */
static int16_t tg_chunk[TG_AUDIO_CHUNK];
static uint32_t tg_next_half;                                      /* 0: first half next */
static int tg_configured;

static void tg_sai_configure(void)
{
    RCC_AHB1ENR |= RCC_AHB1ENR_DMA1EN | RCC_AHB1ENR_DMAMUX1EN;
    RCC_CCIPR2 = (RCC_CCIPR2 & ~(7u << RCC_CCIPR2_SAI1SEL_SHIFT)) |
                 (RCC_CCIPR2_SAI1SEL_HSI16 << RCC_CCIPR2_SAI1SEL_SHIFT);
    RCC_APB2ENR |= RCC_APB2ENR_SAI1EN;
    (void)RCC_APB2ENR;
    for (uint32_t pin = 4u; pin <= 6u; ++pin) {    /* PE4 FS, PE5 SCK, PE6 SD */
        tg_stm32_gpio_mode(GPIO_PORT_E, pin, TG_GPIO_MODE_AF, SAI1_AF);
    }
    DMAMUX1_C0CR = DMAMUX_REQ_SAI1_A;
    tg_configured = 1;
}

int tg_audio_start(void)
{
    if (!tg_configured) {
        tg_sai_configure();
    }
    SAI_CR1 &= ~(SAI_CR1_SAIEN | SAI_CR1_DMAEN);
    DMA_CCR1 &= ~DMA_CCR_EN;
    memset((void *)tg_dma_buffer, 0, sizeof(tg_dma_buffer));
    DMA_IFCR = DMA_IFCR_ALL1;
    DMA_CPAR1 = SAI_DR_ADDR;
    DMA_CMAR1 = (uint32_t)(uintptr_t)tg_dma_buffer;
    DMA_CNDTR1 = (uint32_t)(sizeof(tg_dma_buffer) / sizeof(tg_dma_buffer[0]));
    DMA_CCR1 = DMA_CCR_CIRC | DMA_CCR_MINC | DMA_CCR_PSIZE_16 | DMA_CCR_MSIZE_16 | DMA_CCR_PL_HIGH;
    DMA_CCR1 |= DMA_CCR_EN;
    SAI_FRCR = SAI_FRCR_I2S_16x2;
    SAI_SLOTR = SAI_SLOTR_2x16;
    SAI_CR2 = SAI_CR2_FFLUSH;
    SAI_CLRFR = 0x77u;
    SAI_CR1 = SAI_CR1_MODE_SLAVE_RX | SAI_CR1_DS_16 | SAI_CR1_CKSTR | SAI_CR1_DMAEN;
    SAI_CR1 |= SAI_CR1_SAIEN;   /* from now on the first frames the master clocks in are ours */
    tg_next_half = 0u;
    return 0;
}

void tg_audio_stop(void)
{
    SAI_CR1 &= ~(SAI_CR1_SAIEN | SAI_CR1_DMAEN);
    DMA_CCR1 &= ~DMA_CCR_EN;
    DMA_IFCR = DMA_IFCR_ALL1;
}

const int16_t *tg_audio_take(uint32_t *late)
{
    *late = 0u;
    uint32_t want = tg_next_half == 0u ? DMA_ISR_HTIF1 : DMA_ISR_TCIF1;
    uint32_t isr = DMA_ISR;
    if (!(isr & want)) {
        return 0;
    }
    DMA_IFCR = want;
    const volatile int16_t *half = tg_dma_buffer + tg_next_half * FRAMES_PER_HALF * 2u;
    for (uint32_t i = 0u; i < TG_AUDIO_CHUNK; ++i) {
        tg_chunk[i] = half[2u * i];   /* the left slot */
    }
    /* The other half's flag already up: it filled while this one waited. */
    uint32_t other = tg_next_half == 0u ? DMA_ISR_TCIF1 : DMA_ISR_HTIF1;
    if (DMA_ISR & other) {
        *late = 1u;
    }
    tg_next_half ^= 1u;
    return tg_chunk;
}
