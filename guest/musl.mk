# The static musl build Kestrel (guest/Makefile) and hypr-shim (shim/Makefile) share: the toolchain
# per ARCH (x64: musl-gcc; arm64: Debian's gcc-aarch64-linux-gnu with the musl-gcc.specs of
# musl-dev:arm64), the output directory, and the compile and link flags (see guest/Makefile).
ARCH ?= x64
ifeq ($(ARCH),arm64)
CC := aarch64-linux-gnu-gcc -specs /usr/lib/aarch64-linux-musl/musl-gcc.specs
OBJCOPY := aarch64-linux-gnu-objcopy
OUT := out/arm64
else
CC := musl-gcc
OBJCOPY := objcopy
OUT := out
endif
CFLAGS := -static -Os -std=c11 -Wall -Wextra -Werror -ffunction-sections -fdata-sections \
	-fno-asynchronous-unwind-tables -fno-unwind-tables -fstack-protector-strong
LDFLAGS := -Wl,--gc-sections -Wl,-z,noseparate-code -Wl,-z,norelro -Wl,-z,common-page-size=64 -s
