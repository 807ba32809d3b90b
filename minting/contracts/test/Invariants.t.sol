// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {SongmintEditions} from "../SongmintEditions.sol";
import {SongmintFactory} from "../SongmintFactory.sol";
import {Fixtures} from "./Fixtures.sol";
import {TestBase} from "./Vm.sol";

/// Drives the contract with random creates, mints and mint attempts by strangers; the invariant
/// test checks the ghost state it keeps against the chain after every call sequence.
contract Handler is TestBase {
    SongmintEditions public immutable ed;
    uint256[] public ids;
    mapping(uint256 => uint256) public minted;
    uint256 public totalMinted;
    bool public strangerMinted;
    address public constant HOLDER = address(0xA11CE);

    constructor(SongmintEditions ed_) {
        ed = ed_;
    }

    function idCount() external view returns (uint256) {
        return ids.length;
    }

    function create(uint256 id, uint256 amount, uint64 cap) external {
        id = bound(id, 1, 50);
        cap = uint64(bound(cap, 1, 1000));
        amount = bound(amount, 0, 1200);
        try ed.create(HOLDER, id, amount, cap, 0, "") {
            ids.push(id);
            minted[id] += amount;
            totalMinted += amount;
        } catch {}
    }

    function mint(uint256 seed, uint256 amount) external {
        if (ids.length == 0) return;
        uint256 id = ids[seed % ids.length];
        amount = bound(amount, 1, 600);
        try ed.mint(HOLDER, id, amount, "") {
            minted[id] += amount;
            totalMinted += amount;
        } catch {}
    }

    function mintAsStranger(address stranger, uint256 seed, uint256 amount) external {
        if (ids.length == 0 || stranger == address(this)) return;
        vm.prank(stranger);
        try ed.mint(stranger, ids[seed % ids.length], bound(amount, 1, 5), "") {
            strangerMinted = true;
        } catch {}
    }
}

contract SongmintEditionsInvariants is TestBase {
    SongmintEditions internal ed;
    Handler internal handler;

    function setUp() public {
        ed = Fixtures.release(new SongmintFactory(), "r", "u/{id}", "c", address(this), address(0xB0B), 250);
        handler = new Handler(ed);
        ed.grantRole(ed.MINTER_ROLE(), address(handler));
    }

    function targetContracts() public view returns (address[] memory t) {
        t = new address[](1);
        t[0] = address(handler);
    }

    function invariant_supplyWithinCap() public view {
        for (uint256 i; i < handler.idCount(); ++i) {
            uint256 id = handler.ids(i);
            (uint64 cap,,,, uint256 supply) = ed.tokenInfo(id);
            assertTrue(supply <= cap, "total supply <= edition cap");
            assertEq(supply, handler.minted(id), "supply == what minters minted");
        }
    }

    function invariant_onlyMintersMint() public view {
        assertTrue(!handler.strangerMinted(), "a stranger minted");
        assertEq(ed.totalSupply(), handler.totalMinted(), "total supply == minted by minters");
    }

    function invariant_royaltyStable() public view {
        (address r, uint256 a) = ed.royaltyInfo(1, 1 ether);
        assertTrue(r == address(0xB0B), "receiver");
        assertEq(a, 0.025 ether, "2.5 % royalty");
    }
}
