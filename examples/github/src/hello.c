#include <stdio.h>

int main(void) {
    puts("hello from a build with provenance");
    return 0;
}
