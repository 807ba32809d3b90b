// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// The few forge cheatcodes these tests use (forge-std is not in the registries we may use).
/// Signatures follow forge's Vm interface; the address is forge's fixed cheatcode address.
interface Vm {
    function prank(address sender) external;
    function startPrank(address sender) external;
    function stopPrank() external;
    function expectRevert(bytes calldata revertData) external;
    function expectRevert(bytes4 revertData) external;
    function expectEmit() external;
    function assume(bool condition) external pure;
    function deal(address account, uint256 newBalance) external;
    function warp(uint256 timestamp) external;
    function expectRevert() external;
}

abstract contract TestBase {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    function assertEq(uint256 a, uint256 b, string memory what) internal pure {
        if (a != b) revert(string.concat(what, ": ", _s(a), " != ", _s(b)));
    }

    function assertEq(string memory a, string memory b, string memory what) internal pure {
        if (keccak256(bytes(a)) != keccak256(bytes(b))) revert(string.concat(what, ": ", a, " != ", b));
    }

    function assertEq(address a, address b, string memory what) internal pure {
        if (a != b) revert(what);
    }

    function assertTrue(bool c, string memory what) internal pure {
        if (!c) revert(what);
    }

    /// Map `x` into [lo, hi] (forge-std's `bound`, simplified: uniform enough for fuzzing).
    function bound(uint256 x, uint256 lo, uint256 hi) internal pure returns (uint256) {
        if (hi <= lo) return lo;
        uint256 span = hi - lo;
        return span == type(uint256).max ? x : lo + (x % (span + 1));
    }

    function _s(uint256 v) private pure returns (string memory) {
        if (v == 0) return "0";
        bytes memory b;
        while (v != 0) {
            b = abi.encodePacked(bytes1(uint8(48 + (v % 10))), b);
            v /= 10;
        }
        return string(b);
    }
}
