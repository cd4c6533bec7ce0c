/* placeholder */
#include <criterion/criterion.h>
Test(profiles, placeholder) {}
