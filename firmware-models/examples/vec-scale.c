/*
 * vec-scale in C: the twin of vec-scale.s (same instructions on the vector unit, same order of
 * random draws), built with clang for riscv32 and loaded as ELF. See vec-scale.s for the idea.
 *
 *   clang --target=riscv32 -march=rv32im -mabi=ilp32 -nostdlib -ffreestanding -O2 -fuse-ld=lld \
 *         -T firmware-models/lechip.ld -o vec-scale.elf firmware-models/examples/vec-scale.c
 */
#include "../lechip-vector.h"

#define NROWS 8
#define SCALE 24576 /* 0.75 in Q0.15 */
#define FRAC 7

unsigned char result[128] __attribute__((aligned(16)));

LECHIP_START();

int main(void) {
  for (int row = 0; row < NROWS; row++) {
    VLDS_B(1, row, 0);
    VWIDEN_LO(2, 1);
    VWIDEN_HI(3, 1);
    VSLLI_HS(2, 2, 7);
    VSLLI_HS(3, 3, 7);
    VMULFS_HS(2, 2, SCALE);
    VMULFS_HS(3, 3, SCALE);
    VNARROWSR_LO(4, 2, FRAC);
    VNARROWSR_HI(4, 3, FRAC);
    VSTS_B(4, row, 0);
    WAIT(1);
  }
  VADC_B(5, LECHIP_OBS_R, 0);
  VST(5, result);
  int sum = 0;
  for (int i = 0; i < 128; i++) sum += VEXT_BU(5, i);
  return sum;
}
