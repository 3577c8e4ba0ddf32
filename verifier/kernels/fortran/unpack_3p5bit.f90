! The design's 3.5-bit unpacking routine (seed, Doc #2 and Doc #5), completed as literally as possible into
! a subroutine: one code per stored byte W_Q(idx, j); the 4-bit field through SIGN_EXTEND_4BIT, the 3-bit
! field as iand(raw7, 7), with no sign extension (as written). Compiled by numpy.f2py and checked against
! Lean's Quantproof.seedUnpack, which formalises it; where it differs from the spec (negative 3-bit
! weights) the claims audit lists the codes.
subroutine unpack_3p5bit(W_Q, K, N, W1, W2)
  implicit none
  integer, intent(in) :: K, N
  integer(kind=1), intent(in) :: W_Q(K, N)
  integer, intent(out) :: W1(K, N), W2(K, N)
  integer, parameter :: SIGN_EXTEND_4BIT(0:15) = &
    [0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1]
  integer :: idx, j, raw7, n1, n2
  do j = 1, N
    do idx = 1, K
      ! 3.5-bit unpacking
      raw7 = iand(int(W_Q(idx, j)), int(z'7F'))
      n1 = ishft(raw7, -3)  ! 4 bits
      n2 = iand(raw7, 7)     ! 3 bits
      W1(idx, j) = SIGN_EXTEND_4BIT(n1)
      W2(idx, j) = n2
    end do
  end do
end subroutine unpack_3p5bit
