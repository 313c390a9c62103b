#!/bin/sh
# The build: a stand-in compiler (the example needs no toolchain): out/app is a shell program
# that carries the sources it was built from.
set -eu
mkdir -p out
{
  echo '#!/bin/sh'
  echo "# version $(cat src/VERSION)"
  echo 'echo "hello from the hallmark gitlab example"'
  sed 's/^/# /' src/main.c
} > out/app
chmod +x out/app
