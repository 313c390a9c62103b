#include <stdio.h>

int main(void) {
    puts("hello from the hallmark gitlab example");
    return 0;
}
